"""`collector`: parse the command line, run one command, turn its outcome into an exit code.

Exit codes (`ExitCode`): 0 done; 1 the run finished but some scopes failed (or a read found
nothing it was asked for); 2 usage or configuration error; 3 could not run (database
unreachable or unusable, another run holds the lock, or a bug, reported as `internal
error`); 4 interrupted (SIGTERM, SIGINT, Ctrl-C or --deadline) after recording what it had.
A reader that closes stdout early (`collector show | head`) ends any command quietly: exit
0 (`run` keeps its own code), no traceback, no message.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from .._config import ENV_PREFIX, redact_secrets
from .._errors import CollectorError, ConfigError, truncated
from .._model.run import ExitCode
from .check import add_check_command, run_check
from .completion import add_completion_command, run_completion
from .db import add_db_command, run_db_upgrade
from .escape import escape_control
from .exits import exit_code_of
from .options import DESCRIPTION_WIDTH, Parser, add_command, add_verbosity, examples
from .output import configure_logging
from .pipes import OutputClosed, detach_stdout, guarded_stdout
from .query import QUERY_COMMANDS, add_query_commands, run_query_command
from .run import add_run_command, run_run
from .runs import add_runs_command, run_runs
from .sql import add_sql_command, run_sql


def version() -> str:
    """The installed distribution's version (`unknown` when run from a bare checkout)."""
    try:
        return metadata.version("appflow-inventory")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="collector",
        description=textwrap.fill(
            "A SQL inventory of AWS AppFlow connector profiles, and the flows and custom "
            "connectors linked to them, across an organization, with change history.",
            DESCRIPTION_WIDTH,
        ),
        epilog=examples(
            "collector demo                          # no AWS account needed",
            "collector check --organization --role-name AppFlowInventoryReader",
            "collector run --organization --role-name AppFlowInventoryReader",
            "collector show --connector-type Salesforce",
            "collector changes --run last",
            "collector COMMAND --help                # a command's options and examples",
        ),
    )
    add_verbosity(parser, after=False)
    parser.add_argument("--version", action="version", version=f"collector {version()}")
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=Parser, metavar="COMMAND"
    )
    add_run_command(commands)
    add_check_command(commands)
    add_db_command(commands)
    add_query_commands(commands)
    add_runs_command(commands)
    add_sql_command(commands)
    _add_demo(commands)
    add_completion_command(commands)
    return parser


def _add_demo(commands: argparse._SubParsersAction[Any]) -> None:
    demo = add_command(
        commands,
        "demo",
        "collect a simulated organization into SQLite, no AWS account needed",
        example=("collector demo", "collector demo --accounts 3 --database-url sqlite:///demo.db"),
        description=(
            "Start the built-in AWS simulator on 127.0.0.1, collect a simulated organization "
            "into SQLite, change some profiles and flows, collect again, and show what was "
            "stored, what changed, and the read commands to try on it."
        ),
    )
    demo.add_argument(
        "--database-url",
        metavar="URL",
        default="sqlite:///appflow-demo.db",
        help="the SQLite database to write (default sqlite:///appflow-demo.db; replaced only "
        "if an earlier demo made it)",
    )
    demo.add_argument(
        "--accounts",
        metavar="N",
        type=int,
        default=12,
        help="accounts in the simulated organization (default 12)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    with guarded_stdout():
        code = _main(argv)
        try:
            sys.stdout.flush()
        except OutputClosed:
            detach_stdout()  # what was left in the buffer goes nowhere, and quietly
        return code


def _main(argv: Sequence[str] | None) -> int:
    args: argparse.Namespace | None = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        verbose = args.verbose + getattr(args, "verbose_after", 0)
        debug_aws = args.debug_aws or getattr(args, "debug_aws_after", False)
        configure_logging("text", verbose, debug_aws=debug_aws)
        return _dispatch(args, parser, verbose, debug_aws)
    except SystemExit as done:  # --help and --version, once printed
        return int(done.code or 0)
    except OutputClosed:
        # The reader went away (`collector show | head`): stop quietly, as gh, aws and grep do.
        detach_stdout()
        return ExitCode.OK
    except ConfigError as error:
        return _failed(f"error: {error}", error, args)
    except CollectorError as error:
        return _failed(f"cannot run: {error}", error, args)
    except KeyboardInterrupt as error:
        return _failed("interrupted", error, args)
    except Exception as exc:  # a bug: say so in one line; -v shows where
        logging.getLogger("collector").debug("internal error", exc_info=True)
        return _failed(f"internal error: {type(exc).__name__}: {exc}", exc, args)


def _dispatch(
    args: argparse.Namespace, parser: argparse.ArgumentParser, verbose: int, debug_aws: bool
) -> int:
    if args.command == "run":
        return run_run(args, verbose, debug_aws)
    if args.command == "check":
        return run_check(args, verbose, debug_aws)
    if args.command == "db":
        return run_db_upgrade(args)
    if args.command in QUERY_COMMANDS:
        return run_query_command(args)
    if args.command == "runs":
        return run_runs(args)
    if args.command == "query":
        return run_sql(args)
    if args.command == "completion":
        return run_completion(args, parser)
    from .demo import run_demo  # the simulator is loaded only for the demo

    return run_demo(database_url=args.database_url, accounts=args.accounts)


def _failed(message: str, error: BaseException, args: argparse.Namespace | None) -> int:
    """Say why on stderr, in one line (a JSON one when JSON logs were asked for)."""
    code = exit_code_of(error)
    shown = escape_control(truncated(redact_secrets(message)))
    if args is not None and _json_requested(args):
        line = {
            "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "level": "error",
            "logger": "collector",
            "event": "error",
            "message": truncated(redact_secrets(message)),
            "exit_code": int(code),
        }
        print(json.dumps(line), file=sys.stderr)
    else:
        print(f"collector: {shown}", file=sys.stderr)
    return code


def _json_requested(args: argparse.Namespace) -> bool:
    """Whether JSON logs were asked for on the command line or in the environment (a config
    file's `log_format` is known only once it was read)."""
    given = getattr(args, "log_format", None) or os.environ.get(f"{ENV_PREFIX}LOG_FORMAT")
    return given == "json"
