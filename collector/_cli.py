"""The `collector` command line.

Exit codes: 0 every scope collected; 1 the run finished but some scopes failed; 2 usage or
configuration error; 3 could not run (database unreachable or unusable, another run holds
the lock); 4 interrupted (SIGTERM, SIGINT or --deadline) after recording what it had.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import anyio

from ._core._database import create_engine, redact, upgrade
from ._core._errors import CollectorError, ConfigError, DatabaseError, unwrap_group
from ._core._runner import RunResult, run_collection
from ._core._settings import OPTIONS, Option, Settings, load_settings
from ._output import Progress, configure_logging
from ._query_commands import QUERY_COMMANDS, add_query_commands, run_query_command

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_CANNOT_RUN = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)


def _add_options(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="collector", description="Inventory of AWS AppFlow connector profiles.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_options(commands.add_parser("run", help="run one collection pass"), OPTIONS)
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    _add_options(
        db_commands.add_parser("upgrade", help="apply pending migrations"), ["database_url"]
    )
    add_query_commands(commands)
    demo = commands.add_parser("demo", help="collect a simulated organization into SQLite")
    demo.add_argument("--database-url", metavar="URL", default="sqlite:///appflow-demo.db")
    demo.add_argument("--accounts", metavar="N", type=int, default=12)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        configure_logging("text", args.verbose)
        return _dispatch(args)
    except ConfigError as error:
        print(f"collector: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseError as error:
        print(f"collector: cannot run: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except CollectorError as error:
        print(f"collector: cannot run: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        print("collector: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line; -v shows where
        logging.getLogger("collector").debug("internal error", exc_info=True)
        print(f"collector: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return _run(args)
    if args.command == "db":
        return _db_upgrade(args)
    if args.command in QUERY_COMMANDS:
        return run_query_command(args)
    from ._demo import run_demo

    return run_demo(database_url=args.database_url, accounts=args.accounts)


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in vars(args).items() if v is not None}


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(_flags(args))
    configure_logging(settings.log_format, args.verbose)
    started = time.monotonic()
    progress = Progress()
    try:
        result = anyio.run(_run_until_signalled, settings, progress)
    finally:
        progress.close()
    print(format_summary(result, time.monotonic() - started))
    return result.exit_code


async def _run_until_signalled(settings: Settings, progress: Progress) -> RunResult:
    """Run once; SIGTERM or SIGINT stops the run cleanly instead of killing it mid-write."""
    stop = anyio.Event()
    try:
        return await _run_with_stop(settings, progress, stop)
    except BaseExceptionGroup as group:
        raise unwrap_group(group) from None


async def _run_with_stop(settings: Settings, progress: Progress, stop: anyio.Event) -> RunResult:
    async with anyio.create_task_group() as group:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:

            async def watch() -> None:
                async for signum in signals:
                    logging.getLogger("collector").warning(
                        "received %s: stopping the run",
                        signal.Signals(signum).name,
                        extra={"event": "signal"},
                    )
                    stop.set()

            group.start_soon(watch)
            result = await run_collection(settings, stop=stop, observer=progress)
            group.cancel_scope.cancel()
    return result


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings(_flags(args), allowed=frozenset({"database_url"}))

    async def go() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
        except DatabaseError:
            raise
        except Exception as exc:  # the driver's own errors vary; all mean "cannot run"
            raise DatabaseError(f"database {redact(settings.database_url)}: {exc}") from exc
        finally:
            await engine.dispose()

    anyio.run(go)
    print(f"database {redact(settings.database_url)} is up to date")
    return EXIT_OK


def format_summary(result: RunResult, seconds: float) -> str:
    """The end-of-run summary a person reads in cron mail or a job log."""
    scopes = result.scopes
    lines = [
        f"run {result.run_id} {result.status} in {seconds:.1f}s: "
        f"{sum(scopes.values())} scopes ({scopes['succeeded']} succeeded, "
        f"{scopes['failed']} failed, {scopes['skipped']} skipped), "
        f"{result.profiles_seen} profiles seen; "
        f"{result.changes['created']} created, {result.changes['updated']} updated, "
        f"{result.changes['deleted']} deleted, {result.changes['restored']} restored; "
        f"{result.requests} requests, {result.retries} retries"
    ]
    if result.error:
        lines.append(f"error: {result.error}")
    for outcome in sorted(result.failures, key=lambda o: o.scope)[:50]:
        lines.append(
            f"  failed {outcome.scope.account_id} {outcome.scope.region} "
            f"{outcome.error_code}: {outcome.error_message}"
        )
    if len(result.failures) > 50:
        lines.append(f"  ... and {len(result.failures) - 50} more (see collection_scopes)")
    return "\n".join(lines)
