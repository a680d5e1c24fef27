"""`python -m benchmarks.heap`: a run's fullest heap snapshot, and what grew between two."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from collector.simulator import Simulator, generate_organization

from ..support import run_args, run_module


def _heap(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_module("benchmarks.heap", *args, env=env)


# Slow: tracemalloc traces every allocation of the run, start-up imports included.
@pytest.mark.slow
def test_a_recorded_run_compares_with_itself_as_no_growth(tmp_path: Path) -> None:
    """`record` runs the collector under tracemalloc and keeps a snapshot; `compare` sums it
    by the collector's own lines, and a snapshot against itself grew by nothing."""
    snapshot = tmp_path / "run.snap"
    org = generate_organization(seed=5, accounts=3, regions=("us-east-1",))
    with Simulator(org) as sim:
        url = f"sqlite:///{tmp_path / 'inventory.db'}"
        # One frame a block: still some of the collector's own lines, and far faster than 8.
        command = ("record", "--frames", "1", str(snapshot), "--", *run_args(url, "us-east-1"))
        recorded = _heap(*command, env=sim.env())
    assert recorded.returncode == 0, recorded.stderr
    assert "MB traced at the fullest snapshot" in recorded.stderr
    compared = _heap("compare", str(snapshot), str(snapshot), "--top", "100")
    assert compared.returncode == 0, compared.stderr
    rows = compared.stdout.splitlines()[1:]
    assert rows[-1].endswith("total")
    assert float(rows[-1].split()[1]) > 1.0  # at least a megabyte of the run's heap
    assert {row.split()[0] for row in rows} == {"0.00"}
    assert any("collector/_" in row for row in rows), compared.stdout


def test_record_without_the_collectors_arguments_is_a_usage_error(tmp_path: Path) -> None:
    refused = _heap("record", str(tmp_path / "run.snap"))
    assert refused.returncode == 2
    assert "give the collector's arguments after --" in refused.stderr
