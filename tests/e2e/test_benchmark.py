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


@pytest.fixture(scope="module")
def smoke() -> str:
    """One run of the whole benchmark on `smoke` (the tests of this file share it)."""
    return _bench()


def _row(output: str, label: str) -> re.Match[str]:
    """The table row starting with `label`: wall, CPU, RSS, requests, CPU/request, x floor."""
    number = r"\s+([\d.,]+)"
    found = re.search(
        rf"^{re.escape(label)}{number * 5}\s+([\d.]+x|-)\s+([\d.]+x|-)", output, re.MULTILINE
    )
    assert found, output
    return found


@pytest.mark.slow
def test_the_benchmark_compares_the_baseline_and_the_collector(smoke: str) -> None:
    output = smoke
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


@pytest.mark.slow
def test_the_floor_makes_the_baselines_requests_and_every_run_is_reported_against_it(
    smoke: str,
) -> None:
    """The floor runs against the same simulator, counts every profile, makes the baseline's
    requests, and each row shows its CPU per request as a multiple of the floor's."""
    output = smoke
    profiles = _simulated_profiles(output)
    floor_line = re.search(r"^\[1/1\] floor .* profiles +([\d,]+)", output, re.MULTILINE)
    assert floor_line, output
    assert int(floor_line[1].replace(",", "")) == profiles
    floor_ops = re.search(r"^  floor +(appflow:.*)$", output, re.MULTILINE)
    baseline_ops = re.search(r"^  baseline +(appflow:.*)$", output, re.MULTILINE)
    assert floor_ops, output
    assert baseline_ops, output
    assert floor_ops[1] == baseline_ops[1]
    floor = _row(output, "floor (aiohttp+SigV4, no DB)")
    assert floor[6] == "1.00x"
    for label in ("baseline (boto3, 1 session)", "collector run ", "collector rerun "):
        row = _row(output, label)
        expected = float(row[5]) / float(floor[5])
        assert abs(float(row[6].rstrip("x")) - expected) <= 0.01 + expected * 0.01, (label, output)
    assert re.search(r"^collector / floor: +CPU per request [\d.]+x", output, re.MULTILINE)
    assert re.search(r"^  (met|NOT MET) +collector CPU/request <= 3x floor", output, re.M)


@pytest.mark.slow
def test_the_baseline_with_flows_stores_the_flows_the_collector_stores(smoke: str) -> None:
    """The baseline listing flows (ListFlows, then DescribeFlow for each) stores the same flow
    ARNs as `collector run` with flows, and its CPU is the flows runs' reference."""
    output = smoke
    stored = re.search(
        r"^flow ARNs: baseline and collector stored the same ([\d,]+) ARNs", output, re.MULTILINE
    )
    assert stored, output
    flows = int(stored[1].replace(",", ""))
    assert flows > 0
    assert "MISMATCH" not in output
    ops = re.search(r"^  \+ flows baseline (.*)$", output, re.MULTILINE)
    assert ops, output
    described = re.search(r"appflow:DescribeFlow ([\d,]+)", ops[1])
    assert described
    assert int(described[1].replace(",", "")) == flows
    assert "appflow:ListFlows" in ops[1]
    base = _row(output, "baseline, + flows")
    assert base[7] == "-"
    run = _row(output, "collector run, + flows")
    assert run[7] != "-"
    assert re.search(r"^  (met|NOT MET) +\+ flows CPU <= 0.2x baseline \+ flows", output, re.M)
