"""Samples, medians, ratios and targets, as printed text."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._measure import Usage
from ._workloads import Workload

NOISY_LOAD = 0.10
"""Share of one CPU other processes may use during a run before wall times are flagged."""
TARGET_RATIO = 0.25
"""The collector's wall time, at most this share of the baseline's."""
FLOOR_RATIO = 3.0
"""The collector's CPU per request on a first run (profiles only), at most this multiple of
the floor's."""
FLOWS_RATIO = 0.2
"""The collector's CPU listing profiles and flows, at most this share of the baseline's
listing the same."""
RERUN_CPU_RATIO = 0.7
"""A no-change rerun's CPU, at most this share of the first run's."""
RSS_GROWTH_MB = 5.0
"""Peak RSS growth allowed from the smallest to the largest fleet of a scaling run."""


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
    flows: int = 0
    """Flows stored (0 for a run that lists profiles only)."""


@dataclass(frozen=True, slots=True)
class Repetition:
    """The runs of one repetition (the baseline may be left out) and any difference in what
    they stored."""

    baseline: Sample | None
    first: Sample
    rerun: Sample
    mismatches: tuple[str, ...]
    flows_first: Sample | None = None
    """`collector run` listing flows too (its default), into a fresh database."""
    flows_rerun: Sample | None = None
    floor: Sample | None = None
    """The floor (`benchmarks/floor.py`): the same profile requests, nothing stored."""
    baseline_flows: Sample | None = None
    """The baseline listing profiles and flows (ListFlows, DescribeFlow for each)."""


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
    flows: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000.0 * self.cpu / self.requests if self.requests else float("nan")


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
        median(lambda s: s.flows),
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
    per_request = 1000.0 * usage.cpu / sample.requests if sample.requests else float("nan")
    return (
        f"{label:<30} wall {usage.wall:7.2f}s  cpu {usage.cpu:7.2f}s  "
        f"rss {usage.rss_mb:6.1f} MB  requests {sample.requests:>7,}  "
        f"cpu/request {per_request:5.2f} ms  profiles {sample.profiles:>7,}  "
        f"flows {sample.flows:>6,}  simulator cpu {sample.simulator_cpu:6.2f}s  "
        f"other cpu {sample.other_cpu:6.2f}s"
    )


ROWS = (
    ("floor (aiohttp+SigV4, no DB)", "floor"),
    ("baseline (boto3, 1 session)", "baseline"),
    ("collector run", "first"),
    ("collector rerun", "rerun"),
    ("baseline, + flows", "baseline_flows"),
    ("collector run, + flows", "flows_first"),
    ("collector rerun, + flows", "flows_rerun"),
)
COMPARED_WITH = {
    "first": "baseline",
    "rerun": "baseline",
    "flows_first": "baseline_flows",
    "flows_rerun": "baseline_flows",
}
"""The baseline run that lists what each collector run lists."""
_HEADER = (
    f"{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}{'API requests':>14}"
    f"{'CPU ms/req':>12}{'x floor':>9}{'x base CPU':>12}{'profiles':>10}{'flows':>8}"
    f"{'sim CPU s':>11}{'other CPU s':>13}"
)
_LEGEND = (
    "x floor: CPU per request as a multiple of the floor's; x base CPU: CPU as a share of "
    "the baseline run that lists the same resources"
)


def _multiple(value: float | None, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width - 1}.2f}x"


def _cells(m: Medians, floor: Medians | None = None, base: Medians | None = None) -> str:
    per_floor = m.cpu_ms_per_request / floor.cpu_ms_per_request if floor else None
    per_base = m.cpu / base.cpu if base else None
    return (
        f"{m.wall:>9.2f}{m.cpu:>9.2f}{m.rss_mb:>13.1f}{m.requests:>14,.0f}"
        f"{m.cpu_ms_per_request:>12.2f}{_multiple(per_floor, 9)}{_multiple(per_base, 12)}"
        f"{m.profiles:>10,.0f}{m.flows:>8,.0f}{m.simulator_cpu:>11.2f}{m.other_cpu:>13.2f}"
    )


def by_step(repetitions: Sequence[Repetition]) -> dict[str, Medians]:
    """Medians of each step that ran (`baseline` only if it ran)."""
    steps: dict[str, Medians] = {}
    for _, step in ROWS:
        samples = [getattr(r, step) for r in repetitions]
        if all(s is not None for s in samples):
            steps[step] = medians(samples)
    return steps


def _row(steps: dict[str, Medians], step: str) -> str:
    base = steps.get(COMPARED_WITH.get(step, ""))
    return _cells(steps[step], steps.get("floor"), base)


def table(repetitions: Sequence[Repetition]) -> str:
    """The table of medians, each run's CPU per request against the floor's and its CPU
    against the baseline's."""
    steps = by_step(repetitions)
    lines = [f"{'median of ' + str(len(repetitions)):<29}{_HEADER}"]
    lines += [f"{label:<29}{_row(steps, step)}" for label, step in ROWS if step in steps]
    lines.append(_LEGEND)
    return "\n".join(lines)


def ratios(steps: dict[str, Medians]) -> str:
    """collector / floor, collector / baseline, and rerun / first run."""
    first, rerun = steps["first"], steps["rerun"]
    lines = []
    if "floor" in steps:
        floor = steps["floor"].cpu_ms_per_request
        lines.append(
            f"collector / floor:     CPU per request {first.cpu_ms_per_request / floor:.2f}x "
            f"(run), {rerun.cpu_ms_per_request / floor:.2f}x (rerun)"
        )
    if "baseline" in steps:
        base = steps["baseline"]
        lines.append(
            f"collector / baseline:  wall {first.wall / base.wall:.2f}x  "
            f"CPU {first.cpu / base.cpu:.2f}x  peak RSS {first.rss_mb / base.rss_mb:.2f}x"
        )
    lines.append(
        f"rerun / first run:     wall {rerun.wall / first.wall:.2f}x  "
        f"CPU {rerun.cpu / first.cpu:.2f}x  peak RSS {rerun.rss_mb / first.rss_mb:.2f}x"
    )
    return "\n".join(lines)


def targets(workload: Workload, steps: dict[str, Medians]) -> str:
    """Each target with met / NOT MET and the measured value."""
    first, rerun = steps["first"], steps["rerun"]
    rss = max(first.rss_mb, rerun.rss_mb)
    checks: list[tuple[bool, str, float]] = []
    if "floor" in steps:
        floor = steps["floor"].cpu_ms_per_request
        checks.append(
            (
                first.cpu_ms_per_request <= floor * FLOOR_RATIO,
                f"collector CPU/request <= {FLOOR_RATIO:g}x floor",
                first.cpu_ms_per_request / floor,
            )
        )
    if "baseline" in steps:
        base = steps["baseline"]
        checks.append(
            (
                first.wall <= base.wall * TARGET_RATIO,
                f"collector wall <= {TARGET_RATIO:g}x baseline",
                first.wall / base.wall,
            )
        )
    if "baseline_flows" in steps and "flows_first" in steps:
        base, flows = steps["baseline_flows"], steps["flows_first"]
        checks.append(
            (
                flows.cpu <= base.cpu * FLOWS_RATIO,
                f"+ flows CPU <= {FLOWS_RATIO:g}x baseline + flows",
                flows.cpu / base.cpu,
            )
        )
    checks += [
        (rss < workload.rss_target_mb, f"collector peak RSS < {workload.rss_target_mb:g} MB", rss),
        (
            rerun.cpu <= first.cpu * RERUN_CPU_RATIO,
            f"rerun CPU <= {RERUN_CPU_RATIO:g}x first run",
            rerun.cpu / first.cpu,
        ),
    ]
    return "\n".join(
        f"  {'met' if ok else 'NOT MET':<8} {name:<44} ({value:.2f})" for ok, name, value in checks
    )


def scaling_table(results: Sequence[tuple[Workload, dict[str, Medians]]]) -> str:
    """The floor's and the collector's cost at each fleet size, one row per size and run,
    and how much the collector's peak RSS grew from the smallest fleet to the largest."""
    lines = [f"{'workload':<10}{'accounts':>9}  {'run':<7}{_HEADER}"]
    for workload, steps in results:
        for label, step in (("floor", "floor"), ("first", "first"), ("rerun", "rerun")):
            if step in steps:
                lines.append(
                    f"{workload.name:<10}{workload.accounts:>9,}  {label:<7}{_row(steps, step)}"
                )
    lines.append(_LEGEND)
    ordered = sorted(results, key=lambda result: result[0].accounts)
    (small, small_steps), (large, large_steps) = ordered[0], ordered[-1]

    def peak(steps: dict[str, Medians]) -> float:
        return max(steps["first"].rss_mb, steps["rerun"].rss_mb)

    growth = peak(large_steps) - peak(small_steps)
    lines.append(
        f"  {'met' if growth <= RSS_GROWTH_MB else 'NOT MET':<8} collector peak RSS from "
        f"{small.accounts:,} to {large.accounts:,} accounts grows <= {RSS_GROWTH_MB:g} MB "
        f"({growth:+.1f} MB)"
    )
    return "\n".join(lines)


def sweep_table(results: Sequence[tuple[int, Medians]], floor: Medians | None = None) -> str:
    """The collector's first run at each `--concurrency` (and the floor's, for reference)."""
    lines = [f"{'concurrency':<12}{_HEADER}"]
    if floor is not None:
        lines.append(f"{'floor':<12}{_cells(floor, floor)}")
    lines += [f"{concurrency:<12}{_cells(m, floor)}" for concurrency, m in results]
    lines.append(_LEGEND)
    return "\n".join(lines)


def flows_cost(steps: dict[str, Medians]) -> str | None:
    """What listing flows adds to a run: requests, wall and CPU, first run and rerun (and to
    the baseline, if it ran)."""
    if "flows_first" not in steps:
        return None
    lines = ["flows add (profiles and flows, against profiles only):"]
    pairs = [
        ("first run", steps["first"], steps["flows_first"]),
        ("rerun", steps["rerun"], steps["flows_rerun"]),
    ]
    if "baseline" in steps and "baseline_flows" in steps:
        pairs.insert(0, ("baseline", steps["baseline"], steps["baseline_flows"]))
    for label, base, flows in pairs:
        lines.append(
            f"  {label:<10} +{flows.requests - base.requests:,.0f} requests, "
            f"wall +{flows.wall - base.wall:.2f}s ({flows.wall / base.wall:.2f}x), "
            f"CPU +{flows.cpu - base.cpu:.2f}s ({flows.cpu / base.cpu:.2f}x)"
        )
    return "\n".join(lines)


def operations(label: str, sample: Sample) -> str:
    """Requests per service operation, as the simulator counted them."""
    counts = ", ".join(f"{op} {n:,}" for op, n in sorted(sample.operations.items()))
    return f"  {label:<16} {counts}"


def noise_warning(steps: dict[str, Medians]) -> str | None:
    """A warning when other processes kept a CPU more than NOISY_LOAD busy during the runs."""
    worst = max(m.other_cpu / m.wall for m in steps.values())
    if not worst > NOISY_LOAD:
        return None
    return (
        f"WARNING: other processes kept {worst:.0%} of a CPU busy during some runs; "
        "wall times (and wall ratios) are unreliable, CPU times less affected"
    )
