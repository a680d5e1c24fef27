"""Rows for people and programs: aligned tables, JSON, JSON lines, CSV; the run summary.

Times are ISO-8601 UTC; JSON objects have sorted keys, so SQLite and PostgreSQL (whose jsonb
reorders keys) print the same document.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TextIO

from .._config import redact_secrets
from .._errors import truncated
from .._model.run import CHANGE_TYPES, RunResult
from .._model.wire import iso_utc
from .escape import escape_control, neutralize_formula

Row = Mapping[Any, Any]  # a result row by column name (RowMapping)


class Writer(Protocol):
    """Rows in one output format: `row` for each, then `close` once."""

    def row(self, row: Row) -> None: ...

    def close(self) -> None: ...


def writer_for(fmt: str, columns: Sequence[str], out: TextIO, *, csv_raw: bool = False) -> Writer:
    """The writer of format `fmt`; `csv_raw` turns off CSV's formula neutralization."""
    if fmt == "csv":
        return CsvWriter(columns, out, raw=csv_raw)
    writers: dict[str, Callable[[Sequence[str], TextIO], Writer]] = {
        "table": TableWriter,
        "json": JsonWriter,
        "jsonl": JsonLinesWriter,
    }
    return writers[fmt](columns, out)


class TableWriter:
    """Aligned columns under a header; it must see every row first to know the widths."""

    def __init__(self, columns: Sequence[str], out: TextIO, indent: str = "") -> None:
        self._columns = columns
        self._out = out
        self._indent = indent
        self._lines: list[list[str]] = [list(columns)]

    def row(self, row: Row) -> None:
        self._lines.append([_table_cell(row[c]) for c in self._columns])

    def close(self) -> None:
        widths = [max(len(line[i]) for line in self._lines) for i in range(len(self._columns))]
        for line in self._lines:
            cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
            self._out.write(self._indent + "  ".join(cells).rstrip() + "\n")


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
    """A header, then one line per row; empty for NULL, JSON text for lists and objects.

    Control characters are written as escapes (as in tables: a cell can neither drive the
    terminal showing it nor start a row), and a cell a spreadsheet would read as a formula
    (starting with `=`, `+`, `-`, `@`) gets a leading `'`; `raw` writes cells as stored.
    """

    def __init__(self, columns: Sequence[str], out: TextIO, *, raw: bool = False) -> None:
        self._columns = columns
        self._out = out
        self._csv = csv.writer(out, lineterminator="\n")
        # csv quotes a cell holding "\n" but not one holding a bare "\r", which readers take
        # for the end of the row: such rows are written with every cell quoted.
        self._quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
        self._started = False
        self._cell: Callable[[Any], str] = _csv_cell if raw else _safe_csv_cell

    def row(self, row: Row) -> None:
        self._header()
        cells = [self._cell(row[c]) for c in self._columns]
        (self._quoted if any("\r" in cell for cell in cells) else self._csv).writerow(cells)

    def close(self) -> None:
        self._header()
        self._out.flush()

    def _header(self) -> None:
        # Written with the first row, so a query that fails prints nothing at all.
        if not self._started:
            self._csv.writerow(self._columns)
            self._started = True


def _plain(value: Any) -> Any:
    """A JSON-ready value: times as ISO-8601 UTC, object keys sorted."""
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


def _safe_csv_cell(value: Any) -> str:
    return neutralize_formula(_escaped_cell(value))


def _escaped_cell(value: Any) -> str:
    """A cell with its control characters escaped; lists and objects stay valid JSON."""
    return escape_control(_csv_cell(value), in_json=isinstance(value, Mapping | list))


def _table_cell(value: Any) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return escape_control(",".join(value))
    return _escaped_cell(value)


def format_summary(result: RunResult, seconds: float) -> str:
    """The end-of-run summary a person reads in cron mail or a job log."""
    scopes = result.scopes
    lines = [
        f"run {result.run_id} {result.status} in {seconds:.1f}s: "
        f"{sum(scopes.values())} scopes ({scopes['succeeded']} succeeded, "
        f"{scopes['failed']} failed, {scopes['skipped']} skipped); "
        f"{result.requests} requests, {result.retries} retries"
    ]
    for resource in result.resources:
        counts = result.count(resource)
        changes = ", ".join(f"{counts[kind]} {kind}" for kind in CHANGE_TYPES)
        lines.append(f"{resource.name}: {counts['seen']} seen; {changes}")
    if result.skips:
        skipped = ", ".join(f"{n} {code}" for code, n in sorted(result.skips.items()))
        lines.append(f"skipped on purpose: {skipped}")
    if result.error:
        lines.append(f"error: {_shown(result.error)}")
    for outcome in sorted(result.failures, key=lambda o: o.scope)[:50]:
        lines.append(
            f"  failed {outcome.scope.account_id} {outcome.scope.region} "
            f"{outcome.error_code}: {_shown(str(outcome.error_message))}"
        )
    if len(result.failures) > 50:
        lines.append(f"  ... and {len(result.failures) - 50} more (see collection_scopes)")
    # Every field of every line, whoever wrote it, is escaped: one line stays one line.
    return "\n".join(escape_control(line) for line in lines)


def _shown(message: str) -> str:
    """An error message from AWS or a driver, masked and cut to a length fit for a line."""
    return truncated(redact_secrets(message))
