"""`python -m benchmarks._simserver`: the simulator, with every AppFlow region enabled.

`python -m collector.simulator` generates about 70% of member accounts (and the management
account) without the opt-in region af-south-1, and has no flag to change that. The baseline
would see errors there while the collector skips those scopes, so the runs would not do the
same work. This wrapper serves the same generated data through the public `Simulator`, with
af-south-1 enabled in every account. Output: an `organization ...` line, then
`listening http://HOST:PORT`; it serves until SIGTERM or SIGINT (or, with
`--exit-with-parent`, until the process that started it is gone, so that a benchmark killed
outright leaves no server behind).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence

from collector.simulator import (
    APPFLOW_REGIONS,
    OPT_IN_REGIONS,
    PROFILES,
    Faults,
    Organization,
    Simulator,
    generate_organization,
)

APPFLOW_OPT_IN = frozenset(APPFLOW_REGIONS) & frozenset(OPT_IN_REGIONS)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._simserver")
    parser.add_argument("--accounts", type=int, default=50, help="accounts (management too)")
    parser.add_argument("--seed", type=int, default=1, help="data seed")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    parser.add_argument("--jitter", type=float, default=0.0, help="latency spread (0.2 = 20%%)")
    parser.add_argument("--empty-fraction", type=float, default=0.85)
    parser.add_argument("--max-profiles", type=int, default=120, help="most profiles per scope")
    parser.add_argument("--role-name", default="AppFlowInventoryReader")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-with-parent", action="store_true", help="stop when orphaned")
    return parser


def build_organization(args: argparse.Namespace) -> Organization:
    """The generated organization, every account having the AppFlow opt-in regions."""
    org = generate_organization(
        args.seed,
        args.accounts,
        empty_fraction=args.empty_fraction,
        profiles_per_scope=(1, max(1, args.max_profiles)),
        opt_in_fraction=1.0,
        member_role_name=args.role_name,
    )
    for account in org.account_list():
        account.enabled_opt_in_regions |= APPFLOW_OPT_IN
    return org


def describe(org: Organization) -> str:
    """`organization accounts=N scopes=N nonempty=N profiles=N`."""
    nonempty = org.scopes(PROFILES)
    profiles = sum(len(org.snapshot(PROFILES, key)[1]) for key in nonempty)
    scopes = len(org.accounts) * len(org.regions)
    return (
        f"organization accounts={len(org.accounts)} scopes={scopes} "
        f"nonempty={len(nonempty)} profiles={profiles}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until a signal arrives or the parent process exits."""
    args = _parser().parse_args(argv)
    parent = os.getppid() if args.exit_with_parent else None
    org = build_organization(args)
    faults = Faults(latency=args.latency_ms / 1000.0, latency_jitter=args.jitter)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with Simulator(org, faults, host="127.0.0.1", port=args.port) as sim:
        print(describe(org), flush=True)
        print(f"listening {sim.endpoint_url}", flush=True)
        while not stop.wait(1.0) and parent in (None, os.getppid()):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
