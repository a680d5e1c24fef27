"""The simulator in a process of its own, and its `/_sim/` control endpoints."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from collector.simulator import BASE_ACCESS_KEY_ID, BASE_SECRET_ACCESS_KEY

from ._workloads import Workload

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("STS", "APPFLOW", "ORGANIZATIONS", "EC2")
START_TIMEOUT = 300.0
STOP_TIMEOUT = 15.0
# Control requests go straight to 127.0.0.1, whatever proxy the environment names.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class BenchmarkError(Exception):
    """The benchmark could not run or measure something."""


@dataclass(frozen=True, slots=True)
class SimulatorProcess:
    """A running simulator: its URL and what it generated."""

    url: str
    pid: int
    facts: dict[str, int]
    """`accounts`, `scopes`, `nonempty`, `profiles` as the simulator reported them."""

    def env(self, home: Path) -> dict[str, str]:
        """Environment of a benchmarked child: only this simulator, no user AWS settings."""
        env = {k: v for k, v in os.environ.items() if not _foreign(k)}
        env.update({f"AWS_ENDPOINT_URL_{service}": self.url for service in SERVICES})
        env.update(
            AWS_ACCESS_KEY_ID=BASE_ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY=BASE_SECRET_ACCESS_KEY,
            AWS_DEFAULT_REGION="us-east-1",
            AWS_EC2_METADATA_DISABLED="true",
            AWS_CONFIG_FILE=str(home / "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        return env

    def cpu_seconds(self) -> float:
        """User plus system seconds the simulator process has used so far (Linux /proc)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset_stats(self) -> None:
        """Zero the simulator's request counts."""
        self._call("POST", "/_sim/reset-stats")

    def stats(self) -> dict[str, Any]:
        """The simulator's request counts (`total`, `operations`, ...)."""
        return self._call("GET", "/_sim/stats")

    def _call(self, method: str, path: str) -> dict[str, Any]:
        data = b"" if method == "POST" else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        with _OPENER.open(request, timeout=30) as response:
            document: dict[str, Any] = json.load(response)
        return document


def _foreign(name: str) -> bool:
    """Variables that would point a child at real AWS or through a proxy."""
    upper = name.upper()
    return upper.startswith(("AWS_", "COLLECTOR_")) or upper.endswith("_PROXY")


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _parse_facts(line: str) -> dict[str, int]:
    pairs = (item.split("=", 1) for item in line.split()[1:])
    return {key: int(value) for key, value in pairs}


def _await_listening(process: subprocess.Popen[str], timeout: float) -> SimulatorProcess:
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    facts: dict[str, int] = {}
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise BenchmarkError(f"the simulator did not start within {timeout:.0f}s") from None
        if line is None:
            raise BenchmarkError(f"the simulator exited (code {process.wait()})")
        if line.startswith("organization "):
            facts = _parse_facts(line)
        if line.startswith("listening "):
            return SimulatorProcess(line.split()[1], process.pid, facts)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_simulator(workload: Workload, log: Path) -> Iterator[SimulatorProcess]:
    """Start the simulator for `workload`; it is stopped on exit, error or not."""
    command = [
        sys.executable,
        "-m",
        "benchmarks._simserver",
        "--exit-with-parent",
        *workload.simulator_args(),
    ]
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        try:
            yield _await_listening(process, START_TIMEOUT)
        finally:
            _stop(process)
