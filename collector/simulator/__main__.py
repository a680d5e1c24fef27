"""`python -m collector.simulator`: serve a generated organization in the foreground.

Prints `listening http://HOST:PORT` once ready (with `--print-env`, then the `export` lines
that point `collector` at it) and serves until SIGTERM or SIGINT.

The simulator checks no signature and its `/_sim` endpoints change data and faults, so it
serves loopback only. `--public` serves another address anyway; its `/_sim` endpoints then
need the token printed at start (`control-token TOKEN`) in an `X-Sim-Token` header.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import secrets
import shlex
import signal
import sys
import time
from collections.abc import Sequence

from ._faults import Faults
from ._generate import generate_organization
from ._server import start_server
from ._simulator import endpoint_env, make_state


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m collector.simulator", description="Serve a simulated AWS organization."
    )
    parser.add_argument("--accounts", type=int, default=50, help="accounts (management too)")
    parser.add_argument("--seed", type=int, default=1, help="data seed")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    parser.add_argument("--jitter", type=float, default=0.0, help="latency spread (0.2 = 20%%)")
    parser.add_argument("--empty-fraction", type=float, default=0.85)
    parser.add_argument("--max-profiles", type=int, default=120, help="most profiles per scope")
    parser.add_argument(
        "--flows-per-profile", type=float, default=0.5, help="flows per profile of a scope"
    )
    parser.add_argument("--inactive-accounts", type=int, default=0)
    parser.add_argument("--short-page-fraction", type=float, default=0.1)
    parser.add_argument("--role-name", default="AppFlowInventoryReader")
    parser.add_argument("--external-id", default=None)
    parser.add_argument("--error-rate-500", type=float, default=0.0)
    parser.add_argument("--error-rate-429", type=float, default=0.0)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--credential-lifetime-cap", type=float, default=None)
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address, unless --public")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--print-env",
        action="store_true",
        help="once listening, print the `export` lines that point collector at it",
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="serve a non-loopback --host; /_sim then needs the token printed at start",
    )
    return parser


def export_lines(endpoint_url: str) -> str:
    """Shell lines that point `collector` (any AWS SDK) in this shell at the simulator: its
    endpoint for each service it serves, and the base credentials it accepts."""
    return "\n".join(
        f"export {name}={shlex.quote(value)}" for name, value in endpoint_env(endpoint_url).items()
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only: `localhost` or a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name, which may resolve anywhere


async def _serve(args: argparse.Namespace) -> None:
    org = generate_organization(
        args.seed,
        args.accounts,
        empty_fraction=args.empty_fraction,
        profiles_per_scope=(1, max(1, args.max_profiles)),
        inactive_accounts=args.inactive_accounts,
        short_page_fraction=args.short_page_fraction,
        member_role_name=args.role_name,
        required_external_id=args.external_id,
        flows_per_profile=args.flows_per_profile,
    )
    faults = Faults(
        seed=args.fault_seed,
        latency=args.latency_ms / 1000.0,
        latency_jitter=args.jitter,
        error_rate_500=args.error_rate_500,
        error_rate_429=args.error_rate_429,
        drop_rate=args.drop_rate,
    )
    state = make_state(org, faults, time.time, args.credential_lifetime_cap, 3600.0)
    if args.public:
        state.control_token = secrets.token_urlsafe(32)
    runner, port = await start_server(state, args.host, args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if state.control_token is not None:
        print(f"control-token {state.control_token}", flush=True)
    print(f"listening http://{args.host}:{port}", flush=True)
    if args.print_env:
        print(export_lines(f"http://{_url_host(args.host)}:{port}"), flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator until a signal arrives."""
    args = _parser().parse_args(argv)
    if not args.public and not is_loopback(args.host):
        print(
            f"python -m collector.simulator: --host {args.host!r} is not a loopback address; "
            "the simulator checks no signature and takes faults from anyone who reaches it: "
            "give --public to serve it there anyway, its /_sim endpoints behind a token",
            file=sys.stderr,
        )
        return 2
    asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
