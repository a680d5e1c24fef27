"""Samples, medians, ratios and targets, as printed text."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._measure import Usage
from ._workloads import Workload

NOISY_LOAD = 0.10
"""Share of one CPU other processes may use during a run before wall times are flagged."""
RERUN_NOISE = 0.10
"""How much slower than the first run a no-change rerun may be and still meet its target."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured process: its cost, the API requests it made and the profiles stored."""

    usage: Usage
    requests: int
    operations: dict[str, int]
    profiles: int
    simulator_cpu: float
    """CPU seconds the simulator spent answering this run."""
    other_cpu: float
    """CPU seconds the rest of the machine (not this child, not the simulator) used meanwhile."""


@dataclass(frozen=True, slots=True)
class Repetition:
    """The three runs of one repetition and any difference in what they stored."""

    baseline: Sample
    first: Sample
    rerun: Sample
    mismatches: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Medians:
    """Medians over repetitions of one step."""

    wall: float
    cpu: float
    rss_mb: float
    requests: float
    profiles: float
    simulator_cpu: float
    other_cpu: float


def medians(samples: Sequence[Sample]) -> Medians:
    """Median of each measure."""

    def median(pick: Callable[[Sample], float]) -> float:
        return float(statistics.median(pick(s) for s in samples))

    return Medians(
        median(lambda s: s.usage.wall),
        median(lambda s: s.usage.cpu),
        median(lambda s: s.usage.rss_mb),
        median(lambda s: s.requests),
        median(lambda s: s.profiles),
        median(lambda s: s.simulator_cpu),
        median(lambda s: s.other_cpu),
    )


def workload_line(workload: Workload, facts: dict[str, int]) -> str:
    """What the simulator serves."""
    return (
        f"workload:  {workload.name}: {facts.get('accounts', workload.accounts):,} accounts x 16 "
        f"AppFlow regions = {facts.get('scopes', workload.scopes):,} scopes, "
        f"{facts.get('nonempty', 0):,} non-empty, {facts.get('profiles', 0):,} profiles; "
        f"latency {workload.latency_ms:g} ms +-{workload.jitter:.0%}; seed {workload.seed}; "
        f"every account has every AppFlow region enabled"
    )


def sample_line(label: str, sample: Sample) -> str:
    """One measured run, as printed while the benchmark goes."""
    usage = sample.usage
    return (
        f"{label:<24} wall {usage.wall:7.2f}s  cpu {usage.cpu:7.2f}s  "
        f"rss {usage.rss_mb:6.1f} MB  requests {sample.requests:>7,}  "
        f"profiles {sample.profiles:>7,}  simulator cpu {sample.simulator_cpu:6.2f}s  "
        f"other cpu {sample.other_cpu:6.2f}s"
    )


ROWS = (
    ("baseline (boto3, 32 thr)", "baseline"),
    ("collector run", "first"),
    ("collector rerun", "rerun"),
)


def table(repetitions: Sequence[Repetition]) -> tuple[str, dict[str, Medians]]:
    """The table of medians, and the medians by step."""
    by_step = {step: medians([getattr(r, step) for r in repetitions]) for _, step in ROWS}
    lines = [
        f"{'median of ' + str(len(repetitions)):<26}{'wall s':>9}{'CPU s':>9}"
        f"{'peak RSS MB':>13}{'API requests':>14}{'profiles':>10}"
        f"{'sim CPU s':>11}{'other CPU s':>13}"
    ]
    for label, step in ROWS:
        m = by_step[step]
        lines.append(
            f"{label:<26}{m.wall:>9.2f}{m.cpu:>9.2f}{m.rss_mb:>13.1f}"
            f"{m.requests:>14,.0f}{m.profiles:>10,.0f}{m.simulator_cpu:>11.2f}{m.other_cpu:>13.2f}"
        )
    return "\n".join(lines), by_step


def ratios(by_step: dict[str, Medians]) -> str:
    """collector / baseline, and rerun / first run."""
    base, first, rerun = by_step["baseline"], by_step["first"], by_step["rerun"]
    return (
        f"collector / baseline:  wall {first.wall / base.wall:.2f}x  "
        f"CPU {first.cpu / base.cpu:.2f}x  peak RSS {first.rss_mb / base.rss_mb:.2f}x\n"
        f"rerun / first run:     wall {rerun.wall / first.wall:.2f}x  "
        f"CPU {rerun.cpu / first.cpu:.2f}x  peak RSS {rerun.rss_mb / first.rss_mb:.2f}x"
    )


def targets(workload: Workload, by_step: dict[str, Medians]) -> str:
    """Each target with met / NOT MET and the measured value."""
    base, first, rerun = by_step["baseline"], by_step["first"], by_step["rerun"]
    rss = max(first.rss_mb, rerun.rss_mb)
    checks = (
        (first.wall <= base.wall / 3, "collector wall <= 1/3 of baseline", first.wall / base.wall),
        (first.cpu <= base.cpu / 2, "collector CPU <= 1/2 of baseline", first.cpu / base.cpu),
        (rss < workload.rss_target_mb, f"collector peak RSS < {workload.rss_target_mb:g} MB", rss),
        (
            rerun.wall <= first.wall * (1 + RERUN_NOISE),
            f"rerun wall <= first-run wall (+{RERUN_NOISE:.0%} noise)",
            rerun.wall / first.wall,
        ),
    )
    return "\n".join(
        f"  {'met' if ok else 'NOT MET':<8} {name:<44} ({value:.2f})" for ok, name, value in checks
    )


def operations(label: str, sample: Sample) -> str:
    """Requests per service operation, as the simulator counted them."""
    counts = ", ".join(f"{op} {n:,}" for op, n in sorted(sample.operations.items()))
    return f"  {label:<16} {counts}"


def noise_warning(by_step: dict[str, Medians]) -> str | None:
    """A warning when other processes kept a CPU more than NOISY_LOAD busy during the runs."""
    worst = max(m.other_cpu / m.wall for m in by_step.values())
    if not worst > NOISY_LOAD:
        return None
    return (
        f"WARNING: other processes kept {worst:.0%} of a CPU busy during some runs; "
        "wall times (and wall ratios) are unreliable, CPU times less affected"
    )
