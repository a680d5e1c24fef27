"""Read-side commands: `show`, `changes`, `history`, `export`.

They read the database only: no migration, no write; a database without the collector's
schema exits 3 ("run `collector db upgrade` first"). Times are printed as ISO-8601 UTC with
`Z`. Output follows the read commands' contract (`reading`); filters take the same names
everywhere: `--accounts`, `--regions`, `--resources`, `--connector-type`, `--name`.
"""

from __future__ import annotations

import argparse
import io
import os
import stat
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .._config import Settings
from .._errors import CollectorError, ConfigError
from .._files import replaced
from .._model.resource import Resource
from .._model.resources import RESOURCES
from .._model.run import CHANGE_TYPES, ExitCode
from .._model.selection import Selection
from .._model.wire import changed_values
from .._service import (
    Reader,
    Rows,
    change_columns,
    inventory_columns,
    record_columns,
    table_columns,
)
from .escape import escape_control
from .options import add_command
from .reading import (
    accounts_of,
    add_accounts_option,
    add_read_command_options,
    add_regions_option,
    add_resource_option,
    chosen_columns,
    list_option,
    output_of,
    print_rows,
    read,
    read_settings,
    regions_of,
    resource_of,
    resources_of,
)
from .when import WHEN_FORMS, parse_when

QUERY_COMMANDS: frozenset[str] = frozenset({"changes", "history", "show", "export"})

HISTORY_COLUMNS = ("version", "change_type", "valid_from", "valid_to", "changed_fields", "run_id")
DIFF_COLUMNS = ("version", "change_type", "valid_from", "field", "old", "new")


def add_query_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the read-side subcommands on the `collector` parser."""
    show = add_command(
        commands,
        "show",
        "the inventory now, or as it was at a moment",
        example=(
            "collector show --database-url sqlite:///appflow-demo.db",
            "collector show --connector-type Salesforce --regions eu-west-1 --name 'crm*'",
            "collector show --resources flows --as-of 2026-11-01 -o json",
        ),
    )
    show.add_argument("--as-of", metavar="WHEN", help=f"the inventory at WHEN: {WHEN_FORMS}")
    _add_filters(show)
    add_read_command_options(show)

    changes = add_command(
        commands,
        "changes",
        "versions written in a time window or by one run",
        example=(
            "collector changes --since 7d",
            "collector changes --run last --change-type updated,deleted",
            "collector changes --since 2026-11-01 --until 2026-12-01 --resources flows -o csv",
        ),
    )
    changes.add_argument("--since", metavar="WHEN", help=f"from WHEN: {WHEN_FORMS}")
    changes.add_argument("--until", metavar="WHEN", help="up to WHEN, excluded (default now)")
    changes.add_argument(
        "--run", metavar="ID|last", help="only the versions this run wrote (`last`: the latest)"
    )
    changes.add_argument(
        "--change-type",
        metavar="T,...",
        action="append",
        help=f"only these change types: {', '.join(CHANGE_TYPES)}",
    )
    _add_filters(changes)
    add_read_command_options(changes)

    history = add_command(
        commands,
        "history",
        "every version of one record, oldest first",
        example=(
            "collector history crm --accounts 123456789012 --regions eu-west-1",
            "collector history crm --diff",
            "collector history arn:aws:appflow:eu-west-1:123456789012:connectorprofile/crm -o json",
        ),
        description=(
            "Every version of one record, oldest first: given its ARN, or its name (with "
            "--accounts, --regions and --resources when the name alone matches several)."
        ),
    )
    history.add_argument("record", metavar="ARN|NAME", help="the record's ARN, or its name")
    history.add_argument(
        "--diff", action="store_true", help="one row per changed field: its old and new value"
    )
    add_accounts_option(history)
    add_regions_option(history)
    add_resource_option(history, help="look the name up among these resources only")
    add_read_command_options(history)

    export = add_command(
        commands,
        "export",
        "every current record, all columns, streamed",
        example=(
            "collector export -o csv --output profiles.csv",
            "collector export --resources flows --include-deleted > flows.jsonl",
        ),
    )
    export.add_argument(
        "--include-deleted", action="store_true", help="also the records marked deleted"
    )
    add_resource_option(export)
    export.add_argument("--output", metavar="FILE", help="write to FILE (default stdout)")
    add_read_command_options(export, default="jsonl")


def _add_filters(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters")
    add_resource_option(group)
    add_accounts_option(group)
    add_regions_option(group)
    group.add_argument(
        "--connector-type",
        metavar="T,...",
        action="append",
        help="only records of these connector types (a flow: its source or destination's)",
    )
    group.add_argument(
        "--name", metavar="NAME", help="only records of this name, or matching it with * and ?"
    )


def _selection(args: argparse.Namespace, resource: Resource, **more: Any) -> Selection:
    types = list_option(args.connector_type)
    if types and not resource.type_columns:
        raise ConfigError(f"--connector-type: {resource.title} have no connector type")
    return Selection(
        accounts=accounts_of(args),
        regions=regions_of(args),
        connector_types=types,
        name=args.name,
        **more,
    )


def run_query_command(args: argparse.Namespace) -> int:
    """Run one read-side subcommand; return its exit code.

    0 on success, also when nothing matched (an empty table, `[]`, or a header). `history`
    of a record the database has never seen prints a line on stderr and returns 1, as does
    `changes --run` of an unknown run. Bad input raises `ConfigError` (exit 2); an unusable
    database raises `DatabaseError` (exit 3).
    """
    command = _COMMANDS[args.command]
    return command(args, read_settings(args))


def _changes(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(UTC)
    if args.since is None and args.run is None:
        raise ConfigError("changes needs --since WHEN, or --run ID|last")
    since = None if args.since is None else parse_when(args.since, "--since", now)
    until = None if args.until is None else parse_when(args.until, "--until", now)
    if since is not None and until is not None and until <= since:
        raise ConfigError("--until must be later than --since")
    kinds = list_option(args.change_type)
    for kind in kinds:
        if kind not in CHANGE_TYPES:
            raise ConfigError(f"--change-type: {kind!r} is not one of {', '.join(CHANGE_TYPES)}")
    resource = resource_of(args)
    where = _selection(args, resource, change_types=kinds)
    output = output_of(args)
    columns = chosen_columns(output, record_columns(resource), change_columns(resource))

    async def work(inventory: Reader) -> int:
        selected = where
        if args.run is not None:
            run_id = await inventory.find_run(args.run)
            if run_id is None:
                return _none_found(f"no run {args.run} in the inventory")
            selected = replace(where, run_id=run_id)
        await print_rows(inventory.changes(resource, since, until, selected, columns), output)
        return ExitCode.OK

    return read(settings, work)


def _none_found(message: str) -> int:
    print(f"collector: {escape_control(message)}", file=sys.stderr)
    return ExitCode.PARTIAL


def _show(args: argparse.Namespace, settings: Settings) -> int:
    as_of = None if args.as_of is None else parse_when(args.as_of, "--as-of", datetime.now(UTC))
    resource = resource_of(args)
    where = _selection(args, resource)
    output = output_of(args)
    columns = chosen_columns(output, record_columns(resource), inventory_columns(resource))
    # JSON keeps whole values: each record's snapshot too, unless --columns says otherwise.
    with_snapshot = output.structured and output.columns is None

    async def work(inventory: Reader) -> int:
        rows = inventory.inventory(
            resource, as_of, where, with_snapshot=with_snapshot, columns=columns
        )
        await print_rows(rows, output)
        return ExitCode.OK

    return read(settings, work)


def _history(args: argparse.Namespace, settings: Settings) -> int:
    output = output_of(args)
    wanted = DIFF_COLUMNS if args.diff else HISTORY_COLUMNS
    default = wanted + (("snapshot",) if output.structured and not args.diff else ())
    columns = chosen_columns(output, (*wanted, "snapshot"), default)
    where = Selection(accounts=accounts_of(args), regions=regions_of(args), name=args.record)
    resources = resources_of(args) or RESOURCES

    async def work(inventory: Reader) -> int:
        arn = args.record
        if not arn.startswith("arn:"):
            found = await inventory.records_named(resources, where)
            if not found:
                titles = " or ".join(r.singular for r in resources)
                return _none_found(f"no {titles} named {arn} in the inventory")
            if len(found) > 1:
                raise ConfigError(_ambiguous(arn, found))
            arn = found[0]["arn"]
        resource, versions = await inventory.versions_of(arn)
        if resource is None:
            return _none_found(f"no versions of {arn} in the inventory")
        rows = _diff(resource, versions) if args.diff else versions
        await print_rows(
            Rows(columns, _listed(rows)), output, columns, spare=("run_id", "valid_to")
        )
        return ExitCode.OK

    return read(settings, work)


def _ambiguous(name: str, found: list[dict[str, Any]]) -> str:
    shown = "; ".join(
        f"{r['resource'].name} {r['account_id']} {r['region']}"
        + (" (deleted)" if r["deleted_at"] else "")
        for r in found[:5]
    )
    more = f"; and {len(found) - 5} more" if len(found) > 5 else ""
    return (
        f"{name} names {len(found)} records ({shown}{more}): choose one with --accounts, "
        "--regions or --resources, or give its ARN"
    )


def _diff(resource: Resource, versions: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per field each version changed, with its value before and after; one row
    with no field for a version that changed none (created, deleted, restored)."""
    rows: list[dict[str, Any]] = []
    before: Mapping[str, Any] = {}
    for version in versions:
        snapshot = version["snapshot"] or {}
        base = {k: version[k] for k in ("version", "change_type", "valid_from")}
        changed = (
            changed_values(before, snapshot, resource.map_paths)
            if version["change_type"] == "updated"
            else []
        )
        rows += [{**base, "field": f, "old": old, "new": new} for f, old, new in changed]
        if not changed:
            rows.append({**base, "field": None, "old": None, "new": None})
        before = snapshot
    return rows


async def _listed(rows: list[Any]) -> Any:
    for row in rows:
        yield row


def _export(args: argparse.Namespace, settings: Settings) -> int:
    resource = resource_of(args)
    output = output_of(args)
    every = table_columns(resource)
    columns = chosen_columns(output, every, every)
    with _output(args.output) as out:

        async def work(inventory: Reader) -> int:
            rows = inventory.export(resource, include_deleted=args.include_deleted, columns=columns)
            await print_rows(rows, output, out=out)
            return ExitCode.OK

        return read(settings, work)


_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "changes": _changes,
    "history": _history,
    "show": _show,
    "export": _export,
}


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
