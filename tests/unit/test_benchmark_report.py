"""The benchmark's tables: each run against the floor and against the like baseline."""

from __future__ import annotations

from benchmarks._measure import Usage
from benchmarks._report import ROWS, Repetition, Sample, by_step, ratios, table, targets
from benchmarks._workloads import WORKLOADS


def _sample(cpu: float, requests: int, flows: int = 0) -> Sample:
    return Sample(Usage(cpu * 2, cpu, 100.0), requests, {}, 10, 0.0, 0.0, flows)


def _repetition() -> Repetition:
    return Repetition(
        baseline=_sample(8.0, 1000),
        first=_sample(2.5, 1000),
        rerun=_sample(1.5, 1000),
        mismatches=(),
        flows_first=_sample(6.0, 3000, 5),
        flows_rerun=_sample(3.0, 2000, 5),
        floor=_sample(1.0, 1000),
        baseline_flows=_sample(20.0, 3000, 5),
    )


def _cells(printed: str, step: str) -> list[str]:
    label = dict((step, label) for label, step in ROWS)[step]
    line = next(line for line in printed.splitlines() if line.startswith(label + " "))
    return line[len(label) :].split()


def test_each_row_shows_cpu_per_request_against_the_floor_and_cpu_against_its_baseline() -> None:
    """A row's `x floor` is its CPU per request over the floor's, its `x base CPU` its CPU
    over the baseline run listing the same resources (flows rows: the baseline with flows)."""
    printed = table([_repetition()])
    assert _cells(printed, "floor")[5:7] == ["1.00x", "-"]
    assert _cells(printed, "baseline")[5:7] == ["8.00x", "-"]
    assert _cells(printed, "first")[5:7] == ["2.50x", "0.31x"]
    assert _cells(printed, "rerun")[5:7] == ["1.50x", "0.19x"]
    assert _cells(printed, "baseline_flows")[5:7] == ["6.67x", "-"]
    assert _cells(printed, "flows_first")[5:7] == ["2.00x", "0.30x"]
    assert _cells(printed, "flows_rerun")[5:7] == ["1.50x", "0.15x"]


def test_targets_name_the_floor_the_flows_baseline_and_the_rerun() -> None:
    """The targets compare the first run with 3x the floor, the flows run with 0.2x the
    baseline with flows, and the rerun with 0.7x the first run."""
    steps = by_step([_repetition()])
    printed = targets(WORKLOADS["fleet"], steps)
    assert "met      collector CPU/request <= 3x floor            (2.50)" in printed
    assert "NOT MET  + flows CPU <= 0.2x baseline + flows         (0.30)" in printed
    assert "met      rerun CPU <= 0.7x first run                  (0.60)" in printed
    assert "collector / floor:     CPU per request 2.50x (run), 1.50x (rerun)" in ratios(steps)
