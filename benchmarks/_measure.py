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
    """The child's own peak RSS (`VmHWM`, see `PeakRss`)."""


class PeakRss:
    """A child's peak resident set, read from `/proc/<pid>/status` (`VmHWM`) until it exits.

    Not `wait4`'s `ru_maxrss`: Linux carries the parent's high-water mark into a child it
    forks (or vforks) and execs, so every child of this harness, which holds the ARN sets
    it compared, would report at least the harness's own peak. `VmHWM` is the peak of the
    program the child execs, and never decreases; the last reading before the child exits
    is its peak, give or take what it allocated in its last `INTERVAL`.
    """

    INTERVAL = 0.05

    def __init__(self, pid: int, command: Sequence[str]) -> None:
        self._status = Path(f"/proc/{pid}/status")
        self._cmdline = Path(f"/proc/{pid}/cmdline")
        self._expected = ("\0".join(command) + "\0").encode()
        self.peak_kb = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            # Until the child has exec'd, /proc shows the harness's memory, not the child's.
            if self._cmdline.read_bytes() != self._expected:
                return
            for line in self._status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            return

    def _watch(self) -> None:
        while not self._done.wait(self.INTERVAL):
            self._read()

    def stop(self) -> float:
        """Stop watching; the peak in MB."""
        self._done.set()
        self._thread.join()
        return self.peak_kb / 1024.0


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
        peak = PeakRss(process.pid, command)
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
            rss_mb = peak.stop()
        wall = time.perf_counter() - started
    if killed.is_set():
        raise BenchmarkError(f"{_label(command)} timed out after {timeout:.0f}s\n{_tail(log)}")
    if code != 0:
        raise BenchmarkError(f"{_label(command)} exited {code}\n{_tail(log)}")
    return Usage(wall, usage.ru_utime + usage.ru_stime, rss_mb)
