"""The machine: what it is, and how busy it is (Linux `/proc`, else best effort)."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

LIBRARIES = ("boto3", "botocore", "aiobotocore", "aiohttp", "sqlalchemy", "aiosqlite")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def usable_cores() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def describe() -> str:
    """CPU, cores, Python, library versions and the current load."""
    libraries = ", ".join(f"{name} {_version(name)}" for name in LIBRARIES)
    return (
        f"machine:   {_cpu_model()}, {os.cpu_count()} cores ({usable_cores()} usable), "
        f"{platform.system()} {platform.release()}; load average {load_average()}\n"
        f"python:    {platform.python_implementation()} {platform.python_version()}\n"
        f"libraries: {libraries}"
    )


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (not idle) since boot; NaN if unknown."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return float("nan")
    ticks = [int(value) for value in fields[:8]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")
