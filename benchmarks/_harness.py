"""`python -m benchmarks`: baseline, first collector run and no-change rerun, N times.

Exit codes: 0 done (targets are reported, not enforced); 1 the baseline and the collector
stored different profile ARNs; 2 usage error; 3 the benchmark could not run (a child failed
or timed out, or the simulator did not start).
"""

from __future__ import annotations

import argparse
import dataclasses
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
    Repetition,
    Sample,
    noise_warning,
    operations,
    ratios,
    sample_line,
    table,
    targets,
    workload_line,
)
from ._simprocess import BenchmarkError, SimulatorProcess, running_simulator
from ._stored import baseline_arns, collector_arns, compare
from ._workloads import WORKLOADS, Workload

EXIT_OK, EXIT_MISMATCH, EXIT_ERROR = 0, 1, 3
ROLE_NAME = "AppFlowInventoryReader"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time `collector run` against a threaded boto3 script on a simulated org.",
    )
    parser.add_argument("--size", choices=sorted(WORKLOADS), default="fleet")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median reported)")
    parser.add_argument("--workdir", type=Path, help="keep databases and logs here")
    return parser


def baseline_command(database: Path) -> list[str]:
    """The baseline script writing into `database`."""
    return [sys.executable, "-m", "benchmarks.baseline", "--database", str(database)]


def collector_command(database: Path) -> list[str]:
    """`collector run` over the organization with default settings."""
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


def _with_profiles(sample: Sample, count: int) -> Sample:
    return dataclasses.replace(sample, profiles=count)


def _repetition(sim: SimulatorProcess, workload: Workload, workdir: Path, index: int) -> Repetition:
    timeout = workload.child_timeout
    base_db = _fresh(workdir / f"baseline-{index}.db")
    coll_db = _fresh(workdir / f"collector-{index}.db")
    baseline = _step(sim, baseline_command(base_db), workdir, f"baseline-{index}.log", timeout)
    base = baseline_arns(base_db)
    first = _step(sim, collector_command(coll_db), workdir, f"collector-{index}.log", timeout)
    first_arns = collector_arns(coll_db)
    rerun = _step(sim, collector_command(coll_db), workdir, f"rerun-{index}.log", timeout)
    rerun_arns = collector_arns(coll_db)
    return Repetition(
        _with_profiles(baseline, len(base)),
        _with_profiles(first, len(first_arns)),
        _with_profiles(rerun, len(rerun_arns)),
        _mismatches(sim, base, first_arns, rerun_arns),
    )


def _mismatches(
    sim: SimulatorProcess, base: frozenset[str], first: frozenset[str], rerun: frozenset[str]
) -> tuple[str, ...]:
    found = [compare(base, first, "collector run vs baseline")]
    found.append(compare(base, rerun, "collector rerun vs baseline"))
    expected = sim.facts.get("profiles")
    if expected is not None and expected != len(base):
        found.append(f"baseline stored {len(base):,} profiles, the simulator holds {expected:,}")
    return tuple(m for m in found if m)


def _print_repetition(index: int, total: int, repetition: Repetition) -> None:
    for label, sample in (
        ("baseline", repetition.baseline),
        ("collector run", repetition.first),
        ("collector rerun", repetition.rerun),
    ):
        print(sample_line(f"[{index + 1}/{total}] {label}", sample), flush=True)
    for mismatch in repetition.mismatches:
        print(f"MISMATCH {mismatch}", flush=True)


def _summary(workload: Workload, repetitions: Sequence[Repetition]) -> str:
    text, by_step = table(repetitions)
    first = repetitions[0]
    mismatched = sum(bool(r.mismatches) for r in repetitions)
    arns = (
        f"profile ARNs: baseline and collector (run and rerun) stored the same "
        f"{first.baseline.profiles:,} ARNs in every repetition"
        if not mismatched
        else f"profile ARNs: DIFFERENT in {mismatched} of {len(repetitions)} repetitions"
    )
    return "\n".join(
        [
            "",
            text,
            "",
            ratios(by_step),
            "targets:",
            targets(workload, by_step),
            "requests by operation (repetition 1):",
            operations("baseline", first.baseline),
            operations("collector run", first.first),
            operations("collector rerun", first.rerun),
            arns,
            f"load average at the end: {load_average()}",
            *filter(None, [noise_warning(by_step)]),
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


def run(workload: Workload, repeat: int, workdir: Path) -> list[Repetition]:
    """Start the simulator, run every repetition, stop the simulator."""
    with running_simulator(workload, workdir / "simulator.log") as sim:
        print(workload_line(workload, sim.facts), flush=True)
        print(f"simulator: {sim.url}\n", flush=True)
        repetitions = []
        for index in range(repeat):
            repetition = _repetition(sim, workload, workdir, index)
            _print_repetition(index, repeat, repetition)
            repetitions.append(repetition)
    return repetitions


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwind normally, so the running child is killed and the simulator stopped.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m benchmarks`."""
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if args.repeat < 1:
        _parser().error("--repeat must be at least 1")
    workload = WORKLOADS[args.size]
    print(describe(), flush=True)
    try:
        with _workdir(args.workdir) as workdir:
            repetitions = run(workload, args.repeat, workdir)
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(_summary(workload, repetitions))
    return EXIT_MISMATCH if any(r.mismatches for r in repetitions) else EXIT_OK
