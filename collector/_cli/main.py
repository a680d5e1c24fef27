"""`collector`: parse the command line, run one command, turn its outcome into an exit code.

Exit codes (`ExitCode`): 0 done; 1 the run finished but some scopes failed (or `history`
found nothing); 2 usage or configuration error; 3 could not run (database unreachable or
unusable, another run holds the lock, or a bug, reported as `internal error`); 4 interrupted
(SIGTERM, SIGINT, Ctrl-C or --deadline) after recording what it had.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from typing import NoReturn

from .._config import OPTIONS, Option, redact_secrets
from .._errors import CollectorError, ConfigError, truncated
from .._model.run import ExitCode
from .db import run_db_upgrade
from .escape import escape_control
from .output import configure_logging
from .query import QUERY_COMMANDS, add_query_commands, run_query_command
from .run import run_run


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)


def add_options(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """`--config` and a flag for each named option of the option table."""
    parser.add_argument("--config", metavar="FILE", help="TOML file with option values")
    for name in names:
        option = OPTIONS[name]
        if option.kind == "bool":
            parser.add_argument(
                Option.flag(name), action="store_true", default=None, help=option.help
            )
        else:
            parser.add_argument(
                Option.flag(name),
                metavar=option.metavar,
                help=option.help,
                action="append" if option.repeatable else "store",
            )


def version() -> str:
    """The installed distribution's version (`unknown` when run from a bare checkout)."""
    try:
        return metadata.version("appflow-inventory")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="collector", description="Inventory of AWS AppFlow connector profiles.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    parser.add_argument(
        "--debug-aws",
        action="store_true",
        help="also log the AWS SDK's requests and responses (credentials masked)",
    )
    parser.add_argument("--version", action="version", version=f"collector {version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add_options(commands.add_parser("run", help="run one collection pass"), OPTIONS)
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    add_options(
        db_commands.add_parser("upgrade", help="apply pending migrations"),
        ["database_url", "database_url_file", "schema"],
    )
    add_query_commands(commands)
    demo = commands.add_parser("demo", help="collect a simulated organization into SQLite")
    demo.add_argument("--database-url", metavar="URL", default="sqlite:///appflow-demo.db")
    demo.add_argument("--accounts", metavar="N", type=int, default=12)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        configure_logging("text", args.verbose, debug_aws=args.debug_aws)
        return _dispatch(args)
    except ConfigError as error:
        _say(f"error: {error}")
        return ExitCode.USAGE
    except CollectorError as error:
        _say(f"cannot run: {error}")
        return ExitCode.CANNOT_RUN
    except KeyboardInterrupt:
        _say("interrupted")
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: say so in one line; -v shows where
        logging.getLogger("collector").debug("internal error", exc_info=True)
        _say(f"internal error: {type(exc).__name__}: {exc}")
        return ExitCode.CANNOT_RUN


def _say(message: str) -> None:
    """One line on stderr: secrets masked, and nothing a driver or AWS said can break it."""
    print(f"collector: {escape_control(truncated(redact_secrets(message)))}", file=sys.stderr)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return run_run(args)
    if args.command == "db":
        return run_db_upgrade(args)
    if args.command in QUERY_COMMANDS:
        return run_query_command(args)
    from .demo import run_demo  # the simulator is loaded only for the demo

    return run_demo(database_url=args.database_url, accounts=args.accounts)
