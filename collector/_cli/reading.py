"""What every read command shares: the database options, the output contract (formats,
columns, width), the filters' option names, and printing rows.

The output contract: `--format table|tsv|json|jsonl|csv` (`-o`); without it a terminal gets
a table that fits its width and a pipe gets tab-separated values (a header, then one line
per row, nothing aligned or cut); `--wide` shows a table whole; `--columns` chooses and
orders the columns; `--no-headers` leaves the header out; `--raw` (`--csv-raw`) writes TSV
and CSV cells as stored.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, TextIO

import anyio

from .._config import Settings, check_account_id, closest, did_you_mean, load_settings
from .._errors import ConfigError
from .._model.regions import REGION_SYNTAX
from .._model.resource import Resource
from .._model.resources import RESOURCES, resource_named
from .._service import Reader, Rows, open_inventory
from .flags import given_flags
from .options import DATABASE_OPTIONS, add_database_options
from .render import FORMATS, TableWriter, writer_for


@dataclass(frozen=True, slots=True)
class Output:
    """How a read command prints its rows."""

    fmt: str | None
    """None: a table on a terminal, TSV in a pipe."""
    columns: tuple[str, ...] | None
    wide: bool = False
    headers: bool = True
    raw: bool = False

    def format_for(self, out: TextIO) -> str:
        return self.fmt or ("table" if out.isatty() else "tsv")

    @property
    def structured(self) -> bool:
        """Whether the format keeps whole values (JSON), so snapshots belong in it."""
        return self.fmt in ("json", "jsonl")


def add_output_options(parser: argparse.ArgumentParser, *, default: str | None = None) -> None:
    group = parser.add_argument_group("output")
    shown = default or "table on a terminal, tsv in a pipe"
    group.add_argument(
        "-o", "--format", choices=FORMATS, default=default, help=f"output format (default {shown})"
    )
    group.add_argument("--columns", metavar="COL,...", help="print these columns, in this order")
    group.add_argument(
        "--wide", action="store_true", help="tables whole, however wide (default: fit the terminal)"
    )
    group.add_argument("--no-headers", action="store_true", help="no header line (table, tsv, csv)")
    group.add_argument(
        "--raw",
        "--csv-raw",
        dest="raw",
        action="store_true",
        help="TSV and CSV cells exactly as stored: no leading ' on cells starting with = + - @",
    )


def output_of(args: argparse.Namespace) -> Output:
    return Output(
        fmt=args.format,
        columns=list_option(args.columns) or None,
        wide=args.wide,
        headers=not args.no_headers,
        raw=args.raw,
    )


def add_read_command_options(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    add_database_options(parser)
    add_output_options(parser, default=default)


def read_settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        given_flags(args, *DATABASE_OPTIONS), allowed=frozenset({"database_url", "schema"})
    )


def add_accounts_option(parser: argparse.ArgumentParser | Any) -> None:
    parser.add_argument(
        "--accounts",
        "--account",
        dest="accounts",
        metavar="ID,...",
        action="append",
        help="only these accounts (repeatable, or ID,ID,...)",
    )


def add_regions_option(parser: argparse.ArgumentParser | Any) -> None:
    parser.add_argument(
        "--regions",
        "--region",
        dest="regions",
        metavar="R,...",
        action="append",
        help="only these regions (repeatable, or R,R,...)",
    )


def add_resource_option(parser: argparse.ArgumentParser | Any, help: str | None = None) -> None:
    names = ", ".join(r.name for r in RESOURCES)
    parser.add_argument(
        "--resources",
        "--resource",
        dest="resources",
        metavar="R",
        help=help or f"what to read: {names} (default {RESOURCES[0].name})",
    )


def list_option(given: str | Sequence[str] | None) -> tuple[str, ...]:
    """Values given as `A,B` or repeated (or both), each once, in order."""
    items = [given] if isinstance(given, str) else list(given or ())
    return tuple(dict.fromkeys(v.strip() for item in items for v in item.split(",") if v.strip()))


def accounts_of(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(check_account_id(a) for a in list_option(args.accounts))


def regions_of(args: argparse.Namespace) -> tuple[str, ...]:
    regions = list_option(args.regions)
    for region in regions:
        if not REGION_SYNTAX.fullmatch(region):
            raise ConfigError(f"--regions: {region!r} is not a region name (like us-east-1)")
    return regions


def resources_of(args: argparse.Namespace) -> tuple[Resource, ...]:
    """The resources `--resources` names (empty: not given)."""
    found = []
    for name in list_option(args.resources):
        try:
            found.append(resource_named(name))
        except KeyError:
            known = [r.name for r in RESOURCES]
            raise ConfigError(
                f"--resources: {name!r} is not a resource (choose from {', '.join(known)})"
                + did_you_mean(name, known, cutoff=0.6)
            ) from None
    return tuple(found)


def resource_of(args: argparse.Namespace) -> Resource:
    """The one resource a command reads (`--resources`, default profiles)."""
    found = resources_of(args)
    if len(found) > 1:
        raise ConfigError(f"{args.command} reads one resource at a time: give --resources once")
    return found[0] if found else RESOURCES[0]


def chosen_columns(
    output: Output, available: Sequence[str], default: Sequence[str]
) -> tuple[str, ...]:
    """`--columns`, each checked against what the command can print; else `default`."""
    if output.columns is None:
        return tuple(default)
    for name in output.columns:
        if name not in available:
            near = closest(name, available, cutoff=0.6)
            hint = f"did you mean {near}? " if near else ""
            raise ConfigError(
                f"--columns: no column {name!r} here ({hint}columns: {', '.join(available)})"
            )
    return output.columns


def table_width(out: TextIO) -> int | None:
    """The width a table must fit: the terminal's, or `COLUMNS`; None in a pipe."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if out.isatty():
        return shutil.get_terminal_size().columns
    return None


async def print_rows(
    rows: Rows,
    output: Output,
    columns: Sequence[str] | None = None,
    out: TextIO | None = None,
    *,
    spare: Sequence[str] | None = None,
) -> int:
    """Stream `rows` to `out` (stdout) as `output` says; the number of rows printed.

    `spare` are the columns a table may leave out to fit the terminal, the first first
    (None: `droppable`'s choice; never those `--columns` named).
    """
    stream = out or sys.stdout
    fmt = output.format_for(stream)
    shown = tuple(columns or rows.columns)
    writer = writer_for(
        fmt,
        shown,
        stream,
        raw=output.raw,
        width=None if output.wide else table_width(stream),
        headers=output.headers,
        droppable=() if output.columns else (droppable(shown) if spare is None else spare),
    )
    count = 0
    # Closed however the printing ends (a reader gone, say), so no cursor is left open.
    async with aclosing(rows):
        async for row in rows:
            writer.row(row)
            count += 1
    writer.close()
    if isinstance(writer, TableWriter) and writer.left_out:
        print(
            f"collector: left out to fit the terminal: {', '.join(writer.left_out)} "
            "(--wide shows every column, --columns chooses)",
            file=sys.stderr,
        )
    return count


def droppable(columns: Sequence[str]) -> list[str]:
    """Columns a table may leave out to fit a terminal, the first first: the run's id, the
    ARNs (long, and in --wide or JSON), the version numbers."""
    return [
        *(c for c in columns if c == "run_id"),
        *(c for c in reversed(columns) if c.endswith("_arn")),
        *(c for c in columns if c == "version"),
    ]


def read(settings: Settings, work: Callable[[Reader], Awaitable[int]]) -> int:
    """Run `work` on the inventory, read-only; its result is the exit code."""

    async def go() -> int:
        async with open_inventory(settings.database_url, settings.schema) as inventory:
            return await work(inventory)

    return anyio.run(go)
