"""Run one child process and measure it: wall time, CPU time, peak RSS."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ._simprocess import ROOT, BenchmarkError


@dataclass(frozen=True, slots=True)
class Usage:
    """What one child process cost."""

    wall: float
    cpu: float
    """User plus system seconds of the child (and any children it waited for)."""
    rss_mb: float


def _kill(pid: int, killed: threading.Event) -> None:
    # os.kill, not Popen.kill: Popen would poll, and could reap the child before wait4 does.
    killed.set()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _reap(process: subprocess.Popen[bytes]) -> tuple[int, resource.struct_rusage]:
    """Wait for the child with `wait4`, so its own rusage is what we read."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage


def _label(command: Sequence[str]) -> str:
    return " ".join(command[1:4])


def _tail(log: Path, lines: int = 20) -> str:
    text = log.read_text(errors="replace").splitlines()
    return "\n".join(f"    {line}" for line in text[-lines:])


def run_child(command: Sequence[str], env: dict[str, str], log: Path, timeout: float) -> Usage:
    """Run `command` to completion (killed after `timeout` seconds); raise if it failed."""
    with log.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        killed = threading.Event()
        timer = threading.Timer(timeout, _kill, (process.pid, killed))
        timer.start()
        try:
            code, usage = _reap(process)
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
    if killed.is_set():
        raise BenchmarkError(f"{_label(command)} timed out after {timeout:.0f}s\n{_tail(log)}")
    if code != 0:
        raise BenchmarkError(f"{_label(command)} exited {code}\n{_tail(log)}")
    return Usage(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0)
