"""`make bench` works end to end: the harness on its smallest workload, in seconds."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from ..support import ROOT


def _bench(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--size", "smoke", "--repeat", "1", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _simulated_profiles(output: str) -> int:
    match = re.search(r"^workload: .* ([\d,]+) profiles;", output, re.MULTILINE)
    assert match, output
    return int(match[1].replace(",", ""))


@pytest.mark.slow
def test_the_benchmark_compares_the_baseline_and_the_collector() -> None:
    output = _bench()
    profiles = _simulated_profiles(output)
    assert profiles > 0
    assert f"baseline and collector (run and rerun) stored the same {profiles:,} ARNs" in output, (
        output
    )
    for row in ("baseline (boto3, 1 session)", "collector run ", "collector rerun "):
        assert re.search(rf"^{re.escape(row)}\s+[\d.]+\s+[\d.]+\s+[\d.]+", output, re.MULTILINE)
    assert re.search(r"^collector / baseline:  wall [\d.]+x  CPU [\d.]+x", output, re.MULTILINE)
    assert "NOT MET  collector peak RSS" in output or "met      collector peak RSS" in output
    # The flows runs list flows: DescribeFlow only on the first, ListFlows on both.
    first = re.search(r"^  \+ flows run .*appflow:DescribeFlow ([\d,]+)", output, re.MULTILINE)
    assert first, output
    rerun = re.search(r"^  \+ flows rerun (.*)$", output, re.MULTILINE)
    assert rerun, output
    assert "ListFlows" in rerun[1]
    assert "DescribeFlow" not in rerun[1]


@pytest.mark.slow
def test_the_concurrency_sweep_stores_every_profile_at_each_setting() -> None:
    output = _bench("--concurrency", "1,8")
    profiles = _simulated_profiles(output)
    for concurrency in (1, 8):
        line = re.search(rf"^--concurrency {concurrency} .* profiles +([\d,]+)", output, re.M)
        assert line, output
        assert int(line[1].replace(",", "")) == profiles
    assert re.search(r"^concurrency +wall s", output, re.MULTILINE), output
