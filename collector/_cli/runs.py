"""`collector runs`: what the recent runs did; `--run ID|last`: one run's failed and
skipped scopes, one by one (where the run summary's grouped failures point)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from .._errors import ConfigError
from .._model.run import ExitCode, RunStatus
from .._service import Reader
from .escape import escape_control
from .options import add_command
from .reading import (
    add_read_command_options,
    chosen_columns,
    list_option,
    output_of,
    print_rows,
    read,
    read_settings,
)
from .when import WHEN_FORMS, parse_when

DEFAULT_LIMIT = 20
STATUSES = tuple(str(status) for status in RunStatus)


def add_runs_command(commands: argparse._SubParsersAction[Any]) -> None:
    runs = add_command(
        commands,
        "runs",
        "recent runs: status, duration, counts and failures",
        example=(
            "collector runs",
            "collector runs --since 7d --status partial,failed",
            "collector runs --run last",
        ),
        description=(
            "Recent runs, newest first: status, duration, scopes, records listed per "
            "resource, versions written and failed scopes by error code. With --run, that "
            "run's failed and skipped scopes, one by one, with their errors."
        ),
    )
    runs.add_argument(
        "--limit",
        metavar="N",
        type=int,
        default=DEFAULT_LIMIT,
        help=f"at most N runs (default {DEFAULT_LIMIT})",
    )
    runs.add_argument("--since", metavar="WHEN", help=f"runs started since WHEN: {WHEN_FORMS}")
    runs.add_argument(
        "--status",
        metavar="S,...",
        action="append",
        help=f"only runs of these statuses: {', '.join(STATUSES)}",
    )
    runs.add_argument(
        "--run",
        metavar="ID|last",
        help="one run's failed and skipped scopes (an id, its start, or last)",
    )
    add_read_command_options(runs)


def run_runs(args: argparse.Namespace) -> int:
    settings = read_settings(args)
    output = output_of(args)
    if args.limit < 1:
        raise ConfigError(f"--limit must be at least 1, not {args.limit}")
    since = None if args.since is None else parse_when(args.since, "--since", datetime.now(UTC))
    statuses = list_option(args.status)
    for status in statuses:
        if status not in STATUSES:
            raise ConfigError(f"--status: {status!r} is not one of {', '.join(STATUSES)}")

    async def work(inventory: Reader) -> int:
        if args.run is None:
            rows = await inventory.runs(limit=args.limit, since=since, statuses=statuses)
        else:
            run_id = await inventory.find_run(args.run)
            if run_id is None:
                shown = escape_control(args.run)
                print(f"collector: no run {shown} in the inventory", file=sys.stderr)
                return ExitCode.PARTIAL
            rows = inventory.run_scopes(run_id)
        columns = chosen_columns(output, rows.columns, rows.columns)
        await print_rows(rows, output, columns, spare=("run_label", "shard"))
        return ExitCode.OK

    return read(settings, work)
