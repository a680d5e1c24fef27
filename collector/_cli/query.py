"""Read-side commands: `changes`, `history`, `show`, `export`.

They read the database only: no migration, no write; a database without the collector's
schema exits 3 ("run `collector db upgrade` first"). Times are printed as ISO-8601 UTC with
`Z`. Formats: `table` (aligned columns for people), `json` (one JSON list), `csv` (with a
header; lists and objects as JSON text), and for `export` `jsonl` (one object per line).
"""

from __future__ import annotations

import argparse
import io
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import anyio

from .._config import OPTIONS, Option, Settings, check_account_id, load_settings
from .._errors import CollectorError, ConfigError
from .._files import replaced
from .._model.run import ExitCode
from .._model.scopes import FLOWS, PROFILES, RESOURCES
from .._service import Reader, Rows, open_inventory
from .escape import escape_control
from .flags import given_flags
from .render import writer_for
from .when import WHEN_FORMS, parse_when

QUERY_COMMANDS: frozenset[str] = frozenset({"changes", "history", "show", "export"})

READ_FORMATS = ("table", "json", "csv")
EXPORT_FORMATS = ("jsonl", "csv")


def add_query_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the read-side subcommands on the `collector` parser."""
    changes = _command(commands, "changes", "versions whose valid_from is in a time window")
    changes.add_argument("--since", metavar="WHEN", required=True, help=f"from WHEN: {WHEN_FORMS}")
    changes.add_argument("--until", metavar="WHEN", help="up to WHEN, excluded (default now)")
    _account_option(changes)
    _resource_option(changes)
    _format_option(changes, READ_FORMATS)

    history = _command(commands, "history", "every version of one profile or flow, oldest first")
    history.add_argument("arn", metavar="ARN", help="a connector profile's or flow's ARN")
    _format_option(history, READ_FORMATS)

    show = _command(commands, "show", "the inventory now, or as it was at a moment")
    show.add_argument("--as-of", metavar="WHEN", help=f"the inventory at WHEN: {WHEN_FORMS}")
    _account_option(show)
    _resource_option(show)
    _format_option(show, READ_FORMATS)

    export = _command(commands, "export", "every current profile or flow, all columns, streamed")
    export.add_argument(
        "--include-deleted", action="store_true", help="also profiles (or flows) marked deleted"
    )
    _resource_option(export)
    export.add_argument("--output", metavar="FILE", help="write to FILE (default stdout)")
    _format_option(export, EXPORT_FORMATS)


def _command(
    commands: argparse._SubParsersAction[Any], name: str, summary: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=summary)
    parser.add_argument("--config", metavar="FILE", help="TOML file with option values")
    for name in ("database_url", "database_url_file", "schema"):
        option = OPTIONS[name]
        parser.add_argument(Option.flag(name), metavar=option.metavar, help=option.help)
    return parser


def _account_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--account",
        metavar="ID",
        action="append",
        help="only this account (repeatable, or ID,ID,...)",
    )


def _resource_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--resource",
        choices=RESOURCES,
        default=PROFILES,
        help=f"connector profiles or flows (default {PROFILES})",
    )


def _format_option(parser: argparse.ArgumentParser, formats: Sequence[str]) -> None:
    parser.add_argument(
        "--format", choices=formats, default=formats[0], help=f"default {formats[0]}"
    )
    parser.add_argument(
        "--csv-raw",
        action="store_true",
        help="CSV cells exactly as stored: no leading ' on cells starting with = + - @",
    )


def run_query_command(args: argparse.Namespace) -> int:
    """Run one read-side subcommand; return its exit code.

    0 on success, also when nothing matched (an empty table, `[]`, or a CSV header). `history`
    of an ARN the database has never seen prints a line on stderr and returns 1. Bad input
    raises `ConfigError` (exit 2); an unusable database raises `DatabaseError` (exit 3).
    """
    settings = load_settings(
        given_flags(args, "database_url", "database_url_file", "schema"),
        allowed=frozenset({"database_url", "schema"}),
    )
    command = _COMMANDS[args.command]
    try:
        return command(args, settings)
    except BrokenPipeError:
        # The reader went away (`collector export | head`): stop quietly, not with a traceback.
        _detach_stdout()
        return ExitCode.OK


def _changes(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(UTC)
    since = parse_when(args.since, "--since", now)
    until = None if args.until is None else parse_when(args.until, "--until", now)
    if until is not None and until <= since:
        raise ConfigError("--until must be later than --since")
    accounts = _accounts(args.account)
    _print(
        settings,
        lambda inventory: (inventory.flow_changes if args.resource == FLOWS else inventory.changes)(
            since, until, accounts
        ),
        args.format,
        csv_raw=args.csv_raw,
    )
    return ExitCode.OK


def _history(args: argparse.Namespace, settings: Settings) -> int:
    async def read() -> tuple[tuple[str, ...], list[Any]]:
        async with open_inventory(settings.database_url, settings.schema) as inventory:
            return await inventory.history(args.arn, with_snapshot=args.format == "json")

    # One profile's versions are few: read them all so "unknown ARN" is known before output.
    columns, rows = anyio.run(read)
    if not rows:
        shown = escape_control(args.arn)
        print(f"collector: no versions of {shown} in the inventory", file=sys.stderr)
        return ExitCode.PARTIAL
    writer = writer_for(args.format, columns, sys.stdout, csv_raw=args.csv_raw)
    for row in rows:
        writer.row(row)
    writer.close()
    return ExitCode.OK


def _show(args: argparse.Namespace, settings: Settings) -> int:
    as_of = None if args.as_of is None else parse_when(args.as_of, "--as-of", datetime.now(UTC))
    accounts = _accounts(args.account)
    with_snapshot = args.format == "json"

    def query(inventory: Reader) -> Rows:
        read = inventory.flow_inventory if args.resource == FLOWS else inventory.inventory
        return read(as_of, accounts, with_snapshot=with_snapshot)

    _print(settings, query, args.format, csv_raw=args.csv_raw)
    return ExitCode.OK


def _export(args: argparse.Namespace, settings: Settings) -> int:
    with _output(args.output) as out:
        _print(
            settings,
            lambda inventory: (
                inventory.export_flows if args.resource == FLOWS else inventory.export
            )(include_deleted=args.include_deleted),
            args.format,
            out,
            csv_raw=args.csv_raw,
        )
    return ExitCode.OK


def _print(
    settings: Settings,
    query: Callable[[Reader], Rows],
    fmt: str,
    out: TextIO | None = None,
    *,
    csv_raw: bool = False,
) -> None:
    """Stream a query's rows to `out` (stdout) in format `fmt`."""

    async def go() -> None:
        async with open_inventory(settings.database_url, settings.schema) as inventory:
            rows = query(inventory)
            writer = writer_for(fmt, rows.columns, out or sys.stdout, csv_raw=csv_raw)
            async for row in rows:
                writer.row(row)
            writer.close()

    anyio.run(go)


_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "changes": _changes,
    "history": _history,
    "show": _show,
    "export": _export,
}


def _accounts(given: Sequence[str] | None) -> tuple[str, ...]:
    accounts = (a.strip() for item in given or () for a in item.split(","))
    return tuple(check_account_id(a) for a in accounts if a)


@contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    """stdout, or FILE replaced only once the export is complete."""
    if path is None or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    if _is_stream(target):  # /dev/stdout, a FIFO: written in place, nothing is created
        with _open_stream(target, path) as out:
            yield out
        return
    if target.is_dir():
        raise ConfigError(f"--output {path}: is a directory")
    # A new file of the collector's own beside the target (so the rename stays on one file
    # system and is atomic), 0600 or the mode of the file it replaces; a link at the
    # target's name is refused, and nothing planted in the directory is followed. Writing
    # errors are `CollectorError`s (`_written`); opening and renaming ones are bad input.
    try:
        with (
            replaced(target, keep_mode=True) as binary,
            _written(io.TextIOWrapper(binary, encoding="utf-8", newline=""), path) as out,
        ):
            yield out
    except OSError as exc:
        raise ConfigError(f"--output {path}: {exc.strerror or exc}") from None


def _is_stream(target: Path) -> bool:
    """Whether `target` (followed if a link) is something other than a plain file or a
    directory: a pipe or a device, written in place."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


@contextmanager
def _open_stream(target: Path, shown: str) -> Iterator[TextIO]:
    # Opened without O_CREAT or O_TRUNC: if a plain file took the stream's place since it
    # was looked at, it is neither created nor emptied, only refused.
    try:
        fd = os.open(target, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigError(f"--output {shown}: {exc.strerror or exc}") from None
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ConfigError(f"--output {shown}: changed while it was opened; try again")
    with _written(os.fdopen(fd, "w", encoding="utf-8", newline=""), shown) as written:
        yield written


@contextmanager
def _written(out: TextIO, shown: str) -> Iterator[TextIO]:
    try:
        with out:
            yield out
    except OSError as exc:  # a full disk, say: one line, exit 3, not a traceback
        raise CollectorError(f"--output {shown}: {exc.strerror or exc}") from exc


def _detach_stdout() -> None:
    # Python flushes stdout at exit; pointing it at /dev/null keeps that from failing again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
