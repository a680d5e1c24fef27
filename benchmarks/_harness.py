"""`python -m benchmarks`: the floor, the baseline, the collector's first run and no-change
rerun (then the baseline and the collector with flows), N times.

    python -m benchmarks                                   # fleet, 3 repetitions
    python -m benchmarks --size fleet --size large         # both, one summary each
    python -m benchmarks --size fleet --size large --size xlarge --collector-only --repeat 1
    python -m benchmarks --size fleet --concurrency 25,50,100,200,400 --repeat 1

Several sizes end with one scaling table of the collector's cost per size; `--concurrency`
times only the collector's first run at each value (and the floor's, once). Every table shows
each run's CPU per request as a multiple of the floor's. Exit codes: 0 done (targets are
reported, not enforced); 1 the runs stored (or the floor counted) different ARNs;
2 usage error; 3 the benchmark could not run (a child failed or timed out, or the simulator
did not start).
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import re
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from ._machine import busy_seconds, describe, load_average
from ._measure import run_child
from ._report import (
    Medians,
    Repetition,
    Sample,
    by_step,
    flows_cost,
    medians,
    noise_warning,
    operations,
    ratios,
    sample_line,
    scaling_table,
    sweep_table,
    table,
    targets,
    workload_line,
)
from ._simprocess import ROOT, BenchmarkError, SimulatorProcess, running_simulator
from ._stored import (
    baseline_arns,
    baseline_flow_arns,
    collector_arns,
    collector_flow_arns,
    compare,
)
from ._workloads import WORKLOADS, Workload

EXIT_OK, EXIT_MISMATCH, EXIT_ERROR = 0, 1, 3
ROLE_NAME = "AppFlowInventoryReader"


def _concurrencies(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("concurrencies must be 1 or more")
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time `collector run` against a threaded boto3 script on a simulated org.",
    )
    parser.add_argument(
        "--size", choices=sorted(WORKLOADS), action="append", help="workload (repeatable)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median reported)")
    parser.add_argument("--workdir", type=Path, help="keep databases and logs here")
    parser.add_argument(
        "--collector-only", action="store_true", help="leave the baseline out (scaling runs)"
    )
    parser.add_argument(
        "--no-flows", action="store_true", help="leave out the runs that list flows too"
    )
    parser.add_argument(
        "--concurrency",
        type=_concurrencies,
        metavar="N,N,...",
        help="time the collector's first run at each --concurrency instead",
    )
    return parser


def floor_command() -> list[str]:
    """The floor script: the same profile requests, nothing stored."""
    return [sys.executable, "-m", "benchmarks.floor"]


def baseline_command(database: Path, flows: bool = False) -> list[str]:
    """The baseline script writing into `database` (listing flows too if `flows`)."""
    return [
        sys.executable,
        "-m",
        "benchmarks.baseline",
        "--database",
        str(database),
        "--resources",
        "profiles,flows" if flows else "profiles",
    ]


def collector_command(database: Path, *extra: str, flows: bool = False) -> list[str]:
    """`collector run` over the organization with default settings (and `extra`): connector
    profiles only, as the baseline lists, unless `flows`."""
    return [
        sys.executable,
        "-m",
        "collector",
        "run",
        "--organization",
        "--role-name",
        ROLE_NAME,
        "--database-url",
        f"sqlite:///{database}",
        "--resources",
        "profiles,flows" if flows else "profiles",
        *extra,
    ]


def _fresh(database: Path) -> Path:
    for suffix in ("", "-wal", "-shm", "-journal"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    return database


def _step(
    sim: SimulatorProcess, command: list[str], workdir: Path, log: str, timeout: float
) -> Sample:
    """Run one child with zeroed request counts; the sample (profiles filled in later)."""
    sim.reset_stats()
    sim_before, busy_before = sim.cpu_seconds(), busy_seconds()
    usage = run_child(command, sim.env(workdir), workdir / log, timeout)
    simulator_cpu = sim.cpu_seconds() - sim_before
    other_cpu = max(0.0, busy_seconds() - busy_before - usage.cpu - simulator_cpu)
    stats = sim.stats()
    return Sample(
        usage, int(stats["total"]), dict(stats["operations"]), 0, simulator_cpu, other_cpu
    )


def _with_profiles(sample: Sample, count: int, flows: int = 0) -> Sample:
    return dataclasses.replace(sample, profiles=count, flows=flows)


_FLOOR_COUNT = re.compile(r"^(\d+) accounts, (\d+) profiles$", re.MULTILINE)


def _floor(sim: SimulatorProcess, workdir: Path, log: str, timeout: float) -> Sample:
    """The floor's run, with the profiles it counted (it stores none)."""
    sample = _step(sim, floor_command(), workdir, log, timeout)
    counted = _FLOOR_COUNT.search((workdir / log).read_text(errors="replace"))
    if counted is None:
        raise BenchmarkError(f"the floor printed no count (see {workdir / log})")
    return _with_profiles(sample, int(counted[2]))


@dataclasses.dataclass(frozen=True)
class Modes:
    """What a repetition runs beside the collector's profiles-only runs."""

    baseline: bool = True
    flows: bool = True


def _repetition(
    sim: SimulatorProcess, workload: Workload, workdir: Path, index: int, modes: Modes
) -> Repetition:
    timeout = workload.child_timeout
    floor = _floor(sim, workdir, f"floor-{index}.log", timeout)
    baseline: Sample | None = None
    base: frozenset[str] | None = None
    if modes.baseline:
        base_db = _fresh(workdir / f"baseline-{index}.db")
        baseline = _step(sim, baseline_command(base_db), workdir, f"baseline-{index}.log", timeout)
        base = baseline_arns(base_db)
        baseline = _with_profiles(baseline, len(base))
    coll_db = _fresh(workdir / f"collector-{index}.db")
    first = _step(sim, collector_command(coll_db), workdir, f"collector-{index}.log", timeout)
    first_arns = collector_arns(coll_db)
    rerun = _step(sim, collector_command(coll_db), workdir, f"rerun-{index}.log", timeout)
    rerun_arns = collector_arns(coll_db)
    mismatches = _mismatches(sim, base, first_arns, rerun_arns)
    if floor.profiles != len(first_arns):
        mismatches += (
            f"the floor counted {floor.profiles:,} profiles, the collector stored "
            f"{len(first_arns):,}",
        )
    flows_first: Sample | None = None
    flows_rerun: Sample | None = None
    baseline_flows: Sample | None = None
    if modes.flows:
        if modes.baseline:
            base_flows_db = _fresh(workdir / f"baseline-flows-{index}.db")
            command = baseline_command(base_flows_db, flows=True)
            baseline_flows = _step(sim, command, workdir, f"baseline-flows-{index}.log", timeout)
            base_flows = baseline_flow_arns(base_flows_db)
            baseline_flows = _with_profiles(
                baseline_flows, len(baseline_arns(base_flows_db)), len(base_flows)
            )
        flows_db = _fresh(workdir / f"flows-{index}.db")
        command = collector_command(flows_db, flows=True)
        flows_first = _step(sim, command, workdir, f"flows-{index}.log", timeout)
        first_flows = collector_flow_arns(flows_db)
        flows_first = _with_profiles(flows_first, len(collector_arns(flows_db)), len(first_flows))
        flows_rerun = _step(sim, command, workdir, f"flows-rerun-{index}.log", timeout)
        rerun_flows = collector_flow_arns(flows_db)
        flows_rerun = _with_profiles(flows_rerun, len(collector_arns(flows_db)), len(rerun_flows))
        found = [compare(first_flows, rerun_flows, "collector flows rerun vs first run")]
        if modes.baseline:
            found.append(compare(base_flows, first_flows, "collector flows vs baseline flows"))
        mismatches += tuple(m for m in found if m)
    return Repetition(
        baseline,
        _with_profiles(first, len(first_arns)),
        _with_profiles(rerun, len(rerun_arns)),
        mismatches,
        flows_first,
        flows_rerun,
        floor,
        baseline_flows,
    )


def _mismatches(
    sim: SimulatorProcess,
    base: frozenset[str] | None,
    first: frozenset[str],
    rerun: frozenset[str],
) -> tuple[str, ...]:
    found = [compare(first, rerun, "collector rerun vs first run")]
    if base is not None:
        found.append(compare(base, first, "collector run vs baseline"))
    expected = sim.facts.get("profiles")
    if expected is not None and expected != len(first):
        found.append(
            f"the collector stored {len(first):,} profiles, the simulator holds {expected:,}"
        )
    return tuple(m for m in found if m)


def _print_repetition(index: int, total: int, repetition: Repetition) -> None:
    for label, sample in (
        ("floor", repetition.floor),
        ("baseline", repetition.baseline),
        ("collector run", repetition.first),
        ("collector rerun", repetition.rerun),
        ("baseline + flows", repetition.baseline_flows),
        ("collector run + flows", repetition.flows_first),
        ("collector rerun + flows", repetition.flows_rerun),
    ):
        if sample is not None:
            print(sample_line(f"[{index + 1}/{total}] {label}", sample), flush=True)
    for mismatch in repetition.mismatches:
        print(f"MISMATCH {mismatch}", flush=True)


def _summary(workload: Workload, repetitions: Sequence[Repetition]) -> str:
    steps = by_step(repetitions)
    first = repetitions[0]
    mismatched = sum(bool(r.mismatches) for r in repetitions)
    who = "baseline and collector (run and rerun)" if first.baseline else "collector run and rerun"
    arns = (
        f"profile ARNs: {who} stored the same {first.first.profiles:,} ARNs in every repetition"
        if not mismatched
        else f"profile ARNs: DIFFERENT in {mismatched} of {len(repetitions)} repetitions"
    )
    used = [("collector run", first.first), ("collector rerun", first.rerun)]
    if first.baseline is not None:
        used.insert(0, ("baseline", first.baseline))
    if first.floor is not None:
        used.insert(0, ("floor", first.floor))
    if first.baseline_flows is not None:
        used.append(("+ flows baseline", first.baseline_flows))
    if first.flows_first is not None and first.flows_rerun is not None:
        used += [("+ flows run", first.flows_first), ("+ flows rerun", first.flows_rerun)]
    if first.flows_first is not None and not mismatched:
        who = "baseline and collector" if first.baseline_flows else "collector run and rerun"
        arns += (
            f"\nflow ARNs: {who} stored the same {first.flows_first.flows:,} ARNs "
            "in every repetition"
        )
    return "\n".join(
        [
            "",
            table(repetitions),
            "",
            ratios(steps),
            *filter(None, [flows_cost(steps)]),
            "targets:",
            targets(workload, steps),
            "requests by operation (repetition 1):",
            *(operations(label, sample) for label, sample in used),
            arns,
            f"load average at the end: {load_average()}",
            *filter(None, [noise_warning(steps)]),
        ]
    )


@contextmanager
def _workdir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="appflow-bench-") as tmp:
        yield Path(tmp)


def run(
    workload: Workload,
    repeat: int,
    workdir: Path,
    modes: Modes = Modes(),
) -> list[Repetition]:
    """Start the simulator, run every repetition, stop the simulator."""
    with running_simulator(workload, workdir / "simulator.log") as sim:
        print(workload_line(workload, sim.facts), flush=True)
        print(f"simulator: {sim.url}\n", flush=True)
        repetitions = []
        for index in range(repeat):
            repetition = _repetition(sim, workload, workdir, index, modes)
            _print_repetition(index, repeat, repetition)
            repetitions.append(repetition)
    return repetitions


def sweep(
    workload: Workload, concurrencies: Sequence[int], repeat: int, workdir: Path
) -> tuple[Medians, list[tuple[int, Medians]]]:
    """The floor's medians, and the collector's first run into a fresh database at each
    concurrency."""
    results = []
    with running_simulator(workload, workdir / "simulator.log") as sim:
        print(workload_line(workload, sim.facts), flush=True)
        floors = []
        for index in range(repeat):
            floors.append(_floor(sim, workdir, f"floor-{index}.log", workload.child_timeout))
            print(sample_line("floor", floors[-1]), flush=True)
        floor = medians(floors)
        for concurrency in concurrencies:
            samples = []
            for index in range(repeat):
                database = _fresh(workdir / f"sweep-{concurrency}-{index}.db")
                command = collector_command(database, "--concurrency", str(concurrency))
                log = f"sweep-{concurrency}-{index}.log"
                sample = _step(sim, command, workdir, log, workload.child_timeout)
                sample = _with_profiles(sample, len(collector_arns(database)))
                print(sample_line(f"--concurrency {concurrency}", sample), flush=True)
                samples.append(sample)
            results.append((concurrency, medians(samples)))
    return floor, results


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwind normally, so the running child is killed and the simulator stopped.
    raise SystemExit(128 + signum)


def _compile() -> None:
    # Installed packages carry compiled bytecode; a checkout run with PYTHONDONTWRITEBYTECODE
    # would compile the collector and the baseline on every start instead.
    for folder in ("collector", "benchmarks"):
        compileall.compile_dir(ROOT / folder, quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m benchmarks`."""
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if args.repeat < 1:
        _parser().error("--repeat must be at least 1")
    workloads = [WORKLOADS[name] for name in args.size or ["fleet"]]
    print(describe(), flush=True)
    _compile()
    scaling: list[tuple[Workload, dict[str, Medians]]] = []
    mismatched = False
    try:
        with _workdir(args.workdir) as workdir:
            for workload in workloads:
                if args.concurrency:
                    floor, results = sweep(workload, args.concurrency, args.repeat, workdir)
                    print(f"\n{workload.name}, first run by --concurrency, medians:")
                    print(sweep_table(results, floor))
                    continue
                modes = Modes(baseline=not args.collector_only, flows=not args.no_flows)
                repetitions = run(workload, args.repeat, workdir, modes)
                print(_summary(workload, repetitions), flush=True)
                mismatched |= any(r.mismatches for r in repetitions)
                scaling.append((workload, by_step(repetitions)))
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return EXIT_ERROR
    if len(scaling) > 1:
        print("\nthe collector by fleet size, medians:")
        print(scaling_table(scaling))
    return EXIT_MISMATCH if mismatched else EXIT_OK
