"""Read-side commands: `changes`, `history`, `show`, `export`.

They read the database only: no migration, no write; a database without the collector's
schema exits 3 ("run `collector db upgrade` first"). Times are printed as ISO-8601 UTC with
`Z`. Formats: `table` (aligned columns for people), `json` (one JSON list), `csv` (with a
header; lists and objects as JSON text), and for `export` `jsonl` (one object per line).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

import anyio
import sqlalchemy as sa

from ._core._errors import CollectorError, ConfigError
from ._core._normalize import iso_utc
from ._core._queries import (
    CHANGE_COLUMNS,
    EXPORT_COLUMNS,
    HISTORY_COLUMNS,
    INVENTORY_COLUMNS,
    WHEN_FORMS,
    changes_query,
    export_query,
    history_query,
    inventory_query,
    parse_when,
    read_connection,
)
from ._core._settings import ACCOUNT_ID, OPTIONS, Option, load_settings

QUERY_COMMANDS: frozenset[str] = frozenset({"changes", "history", "show", "export"})

EXIT_OK, EXIT_NOT_FOUND = 0, 1
READ_FORMATS = ("table", "json", "csv")
EXPORT_FORMATS = ("jsonl", "csv")

QueryBuilder = Callable[[str], sa.Select[Any]]
Row = Mapping[Any, Any]  # a result row by column name (SQLAlchemy's RowMapping)


def add_query_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the read-side subcommands on the `collector` parser."""
    changes = _command(commands, "changes", "versions whose valid_from is in a time window")
    changes.add_argument("--since", metavar="WHEN", required=True, help=f"from WHEN: {WHEN_FORMS}")
    changes.add_argument("--until", metavar="WHEN", help="up to WHEN, excluded (default now)")
    _account_option(changes)
    _format_option(changes, READ_FORMATS)

    history = _command(commands, "history", "every version of one profile, oldest first")
    history.add_argument("arn", metavar="ARN", help="the connector profile ARN")
    _format_option(history, READ_FORMATS)

    show = _command(commands, "show", "the inventory now, or as it was at a moment")
    show.add_argument("--as-of", metavar="WHEN", help=f"the inventory at WHEN: {WHEN_FORMS}")
    _account_option(show)
    _format_option(show, READ_FORMATS)

    export = _command(commands, "export", "every current profile, all columns, streamed")
    export.add_argument(
        "--include-deleted", action="store_true", help="also profiles marked deleted"
    )
    export.add_argument("--output", metavar="FILE", help="write to FILE (default stdout)")
    _format_option(export, EXPORT_FORMATS)


def _command(
    commands: argparse._SubParsersAction[Any], name: str, summary: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=summary)
    parser.add_argument("--config", metavar="FILE", help="TOML file with option values")
    option = OPTIONS["database_url"]
    parser.add_argument(Option.flag("database_url"), metavar=option.metavar, help=option.help)
    return parser


def _account_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--account",
        metavar="ID",
        action="append",
        help="only this account (repeatable, or ID,ID,...)",
    )


def _format_option(parser: argparse.ArgumentParser, formats: Sequence[str]) -> None:
    parser.add_argument(
        "--format", choices=formats, default=formats[0], help=f"default {formats[0]}"
    )


def run_query_command(args: argparse.Namespace) -> int:
    """Run one read-side subcommand; return its exit code.

    0 on success, also when nothing matched (an empty table, `[]`, or a CSV header). `history`
    of an ARN the database has never seen prints a line on stderr and returns 1. Bad input
    raises `ConfigError` (exit 2); an unusable database raises `DatabaseError` (exit 3).
    """
    flags = {key: getattr(args, key) for key in ("config", "database_url")}
    settings = load_settings(
        {k: v for k, v in flags.items() if v is not None}, allowed=frozenset({"database_url"})
    )
    command = _COMMANDS[args.command]
    try:
        return command(args, settings.database_url)
    except BrokenPipeError:
        # The reader went away (`collector export | head`): stop quietly, not with a traceback.
        _detach_stdout()
        return EXIT_OK


def _changes(args: argparse.Namespace, database_url: str) -> int:
    now = datetime.now(UTC)
    since = parse_when(args.since, "--since", now)
    until = None if args.until is None else parse_when(args.until, "--until", now)
    if until is not None and until <= since:
        raise ConfigError("--until must be later than --since")
    accounts = _accounts(args.account)
    writer = _writer(args.format, CHANGE_COLUMNS, sys.stdout)
    anyio.run(_stream, database_url, lambda d: changes_query(d, since, until, accounts), writer)
    return EXIT_OK


def _history(args: argparse.Namespace, database_url: str) -> int:
    with_snapshot = args.format == "json"
    columns = HISTORY_COLUMNS + (("snapshot",) if with_snapshot else ())
    query = history_query(args.arn, with_snapshot=with_snapshot)
    # One profile's versions are few: read them all so "unknown ARN" is known before output.
    rows = anyio.run(_fetch_all, database_url, query)
    if not rows:
        print(f"collector: no versions of {args.arn} in the inventory", file=sys.stderr)
        return EXIT_NOT_FOUND
    writer = _writer(args.format, columns, sys.stdout)
    for row in rows:
        writer.row(row)
    writer.close()
    return EXIT_OK


def _show(args: argparse.Namespace, database_url: str) -> int:
    as_of = None if args.as_of is None else parse_when(args.as_of, "--as-of", datetime.now(UTC))
    accounts = _accounts(args.account)
    with_snapshot = args.format == "json"
    columns = INVENTORY_COLUMNS + (("snapshot",) if with_snapshot else ())
    writer = _writer(args.format, columns, sys.stdout)

    def build(dialect: str) -> sa.Select[Any]:
        return inventory_query(dialect, as_of, accounts, with_snapshot=with_snapshot)

    anyio.run(_stream, database_url, build, writer)
    return EXIT_OK


def _export(args: argparse.Namespace, database_url: str) -> int:
    def build(dialect: str) -> sa.Select[Any]:
        return export_query(dialect, include_deleted=args.include_deleted)

    with _output(args.output) as out:
        anyio.run(_stream, database_url, build, _writer(args.format, EXPORT_COLUMNS, out))
    return EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace, str], int]] = {
    "changes": _changes,
    "history": _history,
    "show": _show,
    "export": _export,
}


def _accounts(given: Sequence[str] | None) -> tuple[str, ...]:
    accounts = tuple(a.strip() for item in given or () for a in item.split(",") if a.strip())
    for account in accounts:
        if not ACCOUNT_ID.fullmatch(account):
            raise ConfigError(f"account id {account!r} is not 12 digits")
    return accounts


async def _stream(database_url: str, build: QueryBuilder, writer: Writer) -> None:
    async with (
        read_connection(database_url) as conn,
        conn.stream(build(conn.dialect.name)) as result,
    ):
        async for row in result.mappings():
            writer.row(row)
    writer.close()


async def _fetch_all(database_url: str, query: sa.Select[Any]) -> list[Row]:
    async with read_connection(database_url) as conn:
        return list((await conn.execute(query)).mappings())


@contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    """stdout, or FILE replaced only once the export is complete."""
    if path is None or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    if target.exists() and not target.is_file():  # /dev/stdout, a FIFO: write in place
        with _open(target, path) as out:
            yield out
        return
    # A sibling name, so the final rename stays on one file system and is atomic.
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with _open(temporary, path) as out:
            yield out
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def _open(target: Path, shown: str) -> Iterator[TextIO]:
    try:
        out = target.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise ConfigError(f"--output {shown}: {exc.strerror or exc}") from None
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


class Writer(Protocol):
    """Rows in one output format: `row` for each, then `close` once."""

    def row(self, row: Row) -> None: ...

    def close(self) -> None: ...


def _writer(fmt: str, columns: Sequence[str], out: TextIO) -> Writer:
    writers: dict[str, Callable[[Sequence[str], TextIO], Writer]] = {
        "table": TableWriter,
        "json": JsonWriter,
        "jsonl": JsonLinesWriter,
        "csv": CsvWriter,
    }
    return writers[fmt](columns, out)


class TableWriter:
    """Aligned columns under a header; it must see every row first to know the widths."""

    def __init__(self, columns: Sequence[str], out: TextIO) -> None:
        self._columns = columns
        self._out = out
        self._lines: list[list[str]] = [list(columns)]

    def row(self, row: Row) -> None:
        self._lines.append([_table_cell(row[c]) for c in self._columns])

    def close(self) -> None:
        widths = [max(len(line[i]) for line in self._lines) for i in range(len(self._columns))]
        for line in self._lines:
            cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
            self._out.write("  ".join(cells).rstrip() + "\n")


class JsonWriter:
    """One JSON list, one object per line, written as rows arrive."""

    def __init__(self, columns: Sequence[str], out: TextIO) -> None:
        self._columns = columns
        self._out = out
        self._count = 0

    def row(self, row: Row) -> None:
        self._out.write("[\n" if self._count == 0 else ",\n")
        self._out.write(json.dumps({c: _plain(row[c]) for c in self._columns}))
        self._count += 1

    def close(self) -> None:
        self._out.write("\n]\n" if self._count else "[]\n")


class JsonLinesWriter:
    """One JSON object per line."""

    def __init__(self, columns: Sequence[str], out: TextIO) -> None:
        self._columns = columns
        self._out = out

    def row(self, row: Row) -> None:
        self._out.write(json.dumps({c: _plain(row[c]) for c in self._columns}) + "\n")

    def close(self) -> None:
        self._out.flush()


class CsvWriter:
    """A header, then one line per row; empty for NULL, JSON text for lists and objects."""

    def __init__(self, columns: Sequence[str], out: TextIO) -> None:
        self._columns = columns
        self._out = out
        self._csv = csv.writer(out, lineterminator="\n")
        self._started = False

    def row(self, row: Row) -> None:
        self._header()
        self._csv.writerow([_csv_cell(row[c]) for c in self._columns])

    def close(self) -> None:
        self._header()
        self._out.flush()

    def _header(self) -> None:
        # Written with the first row, so a query that fails prints nothing at all.
        if not self._started:
            self._csv.writerow(self._columns)
            self._started = True


def _plain(value: Any) -> Any:
    """A JSON-ready value: times as ISO-8601 UTC, object keys sorted.

    PostgreSQL's jsonb reorders keys and SQLite keeps them as written; sorting makes both
    backends print the same document.
    """
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, Mapping):
        return {key: _plain(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping | list):
        return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))
    return str(_plain(value))


def _table_cell(value: Any) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    return _csv_cell(value)
