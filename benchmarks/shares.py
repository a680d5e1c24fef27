"""Where a profiled run's CPU went: py-spy's raw samples summed into a few named parts.

    py-spy record --gil --rate 200 --format raw -o run.raw -- .venv/bin/python -m collector run
    python -m benchmarks.shares run.raw

Each stack counts once, for the first part (in the order below) any of whose frames it holds,
so the shares add up to 100%. SQLAlchemy's asyncio layer runs statements in greenlets, which
py-spy shows as stacks rooted at `Connection.execute`: those count as database writes.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("start-up: imports", ("_find_and_load",)),
    ("AssumeRole and credentials", ("AssumedRoles.", "account_credentials", "ActingAccount.")),
    (
        "database reads and writes",
        (
            "_write_all",
            "Store.",
            "collector/_store/",
            "Connection.execute (sqlalchemy",
            "aiosqlite",
        ),
    ),
    ("SigV4 signing", ("AioRequestSigner.handler", "AioRequestSigner.sign")),
    ("HTTP send and receive (aiohttp)", ("BoundedHttpSession.send", "AIOHTTPSession.send")),
    (
        "JSON decoding, normalization, hashing",
        (";_page (collector", "normalize_profile", "json_body", "canonical_json", "page_items"),
    ),
    (
        "rest of botocore's request path (validation, serialization, endpoint rules, hooks)",
        ("AioBaseClient._make_api_call", "AioBaseClient._make_request"),
    ),
    ("client and session set-up", ("AwsClients.", "create_client")),
)
OTHER = "everything else: event loop, anyio, fan-out, retries, pacing"


def shares(lines: Iterable[str]) -> tuple[Counter[str], int]:
    """Samples per part, and the total, from py-spy's raw format (`frame;frame;... count`)."""
    counts: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        part = next((name for name, keys in PARTS if any(k in stack for k in keys)), OTHER)
        counts[part] += samples
    return counts, total


def main(argv: Sequence[str] | None = None) -> int:
    """Print each part's share of the samples, largest first."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shares")
    parser.add_argument("raw", type=Path, help="py-spy record --format raw output")
    args = parser.parse_args(argv)
    with args.raw.open(encoding="utf-8", errors="replace") as lines:
        counts, total = shares(lines)
    if not total:
        print(f"{args.raw}: no samples", file=sys.stderr)
        return 1
    for part, samples in counts.most_common():
        print(f"{100 * samples / total:5.1f}%  {part}")
    print(f"{total:,} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
