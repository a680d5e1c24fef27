"""The benchmark measures each child's own peak RSS, not the harness's."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks._measure import run_child

ALLOCATE = "b = bytearray({mb} * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1"


def test_a_small_child_of_a_large_harness_reports_its_own_peak(tmp_path: Path) -> None:
    """A child that allocates little reports far less than the 300 MB its parent holds, and
    one that allocates 120 MB reports at least that: `wait4`'s figure would be the parent's."""
    held = bytearray(300 * 1024 * 1024)
    for index in range(0, len(held), 4096):
        held[index] = 1
    small = run_child(
        [sys.executable, "-c", "import time; time.sleep(0.5)"],
        {},
        tmp_path / "small.log",
        timeout=60,
    )
    large = run_child(
        [sys.executable, "-c", ALLOCATE.format(mb=120) + "\nimport time; time.sleep(0.5)"],
        {},
        tmp_path / "large.log",
        timeout=60,
    )
    assert 0 < small.rss_mb < 100, small
    assert 120 <= large.rss_mb < 300, large
    assert held[4096] == 1
