"""What a run's heap holds at its peak, and what of it grows with the fleet.

    python -m benchmarks.heap record small.snap -- run --organization --role-name R ...
    python -m benchmarks.heap record large.snap -- run --organization --role-name R ...
    python -m benchmarks.heap compare small.snap large.snap

`record` runs `collector ARGS` in this process under `tracemalloc` (8 frames a block) and
keeps the snapshot taken when the traced memory was highest (one every few seconds: close
to the peak on a run of minutes). `compare` sums both snapshots by the innermost frame of the
collector's own code in each block's traceback (the library's line where there is none)
and prints the parts that grew most. tracemalloc makes a run several times slower; its
figures are Python's allocations, not the resident set the benchmark reports.
"""

from __future__ import annotations

import argparse
import sys
import threading
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

FRAMES = 8
EVERY = 3.0


def record(snapshot: Path, args: Sequence[str], every: float = EVERY, frames: int = FRAMES) -> int:
    """Run `collector ARGS` and write its fullest snapshot to `snapshot`; the run's code."""
    fullest: list[tuple[int, tracemalloc.Snapshot]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            keep(fullest)

    tracemalloc.start(frames)
    # Imported once tracing: the modules' code and data are most of a run's heap.
    from collector._cli.main import main

    sampler = threading.Thread(target=sample, name="heap-sampler", daemon=True)
    sampler.start()
    try:
        code = main(list(args))
    finally:
        done.set()
        sampler.join()
        keep(fullest)  # a run shorter than one interval still has its snapshot
        tracemalloc.stop()
    traced, taken = fullest[0]
    taken.dump(str(snapshot))
    print(f"heap: {traced / 1e6:.1f} MB traced at the fullest snapshot", file=sys.stderr)
    return code


def keep(fullest: list[tuple[int, tracemalloc.Snapshot]]) -> None:
    traced = tracemalloc.get_traced_memory()[0]
    if not fullest or traced > fullest[0][0]:
        fullest[:] = [(traced, tracemalloc.take_snapshot())]


def parts(snapshot: tracemalloc.Snapshot) -> Counter[str]:
    """Bytes by the innermost frame of the collector's code (else the allocating line)."""
    sizes: Counter[str] = Counter()
    for statistic in snapshot.statistics("traceback"):
        sizes[_part(statistic.traceback)] += statistic.size
    return sizes


def _part(traceback: tracemalloc.Traceback) -> str:
    for frame in reversed(traceback):  # most recent last
        name = frame.filename.replace("\\", "/")
        if "/collector/" in name and "/collector/simulator/" not in name:
            return f"collector/{name.rpartition('/collector/')[2]}:{frame.lineno}"
    frame = traceback[-1]
    name = frame.filename.replace("\\", "/").rpartition("/site-packages/")[2] or frame.filename
    return f"{name}:{frame.lineno}"


def compare(before: Path, after: Path, top: int = 25) -> str:
    """The parts that grew most from `before` to `after`, in MB, with both totals."""
    small = parts(tracemalloc.Snapshot.load(str(before)))
    large = parts(tracemalloc.Snapshot.load(str(after)))
    grown = sorted(set(small) | set(large), key=lambda k: large[k] - small[k], reverse=True)
    lines = [f"{'grew MB':>8} {'before':>8} {'after':>8}  part"]
    for key in grown[:top]:
        lines.append(
            f"{(large[key] - small[key]) / 1e6:8.2f} {small[key] / 1e6:8.2f} "
            f"{large[key] / 1e6:8.2f}  {key}"
        )
    lines.append(
        f"{(large.total() - small.total()) / 1e6:8.2f} {small.total() / 1e6:8.2f} "
        f"{large.total() / 1e6:8.2f}  total"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.heap", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    recording = commands.add_parser("record", help="run the collector, keep its peak snapshot")
    recording.add_argument("snapshot", type=Path)
    recording.add_argument(
        "--frames", type=int, default=FRAMES, help="frames kept per allocation (fewer: faster)"
    )
    recording.add_argument("args", nargs=argparse.REMAINDER, help="-- collector arguments")
    comparing = commands.add_parser("compare", help="what grew from one snapshot to another")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    comparing.add_argument("--top", type=int, default=25)
    options = parser.parse_args(argv)
    if options.command == "record":
        args = options.args[1:] if options.args[:1] == ["--"] else options.args
        if not args:
            parser.error("record: give the collector's arguments after --")
        return record(options.snapshot, args, frames=options.frames)
    print(compare(options.before, options.after, options.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
