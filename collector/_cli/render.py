"""Rows for people and programs: aligned tables, tab-separated values, JSON, JSON lines, CSV.

Every read command takes the same formats (`FORMATS`). Times are ISO-8601 UTC; JSON objects
have sorted keys, so SQLite and PostgreSQL (whose jsonb reorders keys) print the same
document. Tables fit the terminal they are shown on (cells cut with `…`) unless `wide`;
table, TSV and CSV cells show control characters as escapes, and TSV and CSV cells that a
spreadsheet would read as formulas get a leading `'` unless `raw`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TextIO

from .._model.wire import iso_utc
from .escape import escape_control, neutralize_formula

Row = Mapping[Any, Any]  # a result row by column name (RowMapping)

FORMATS = ("table", "tsv", "json", "jsonl", "csv")
"""The output formats of every read command."""
ELLIPSIS = "…"
# A column is never cut narrower than this to fit a table on the terminal.
MIN_COLUMN = 8
GAP = "  "


class Writer(Protocol):
    """Rows in one output format: `row` for each, then `close` once."""

    def row(self, row: Row) -> None: ...

    def close(self) -> None: ...


def writer_for(  # noqa: PLR0913 - one argument per output option
    fmt: str,
    columns: Sequence[str],
    out: TextIO,
    *,
    raw: bool = False,
    width: int | None = None,
    headers: bool = True,
    droppable: Sequence[str] = (),
) -> Writer:
    """The writer of format `fmt`: `raw` turns off TSV's and CSV's formula neutralization,
    `width` is the widest a table may be (None: as wide as it needs; `droppable` columns
    may be left out to fit it), `headers` whether the table, TSV and CSV start with the
    column names."""
    if fmt == "table":
        return TableWriter(columns, out, width=width, headers=headers, droppable=droppable)
    if fmt == "tsv":
        return TsvWriter(columns, out, raw=raw, headers=headers)
    if fmt == "csv":
        return CsvWriter(columns, out, raw=raw, headers=headers)
    writers: dict[str, Callable[[Sequence[str], TextIO], Writer]] = {
        "json": JsonWriter,
        "jsonl": JsonLinesWriter,
    }
    return writers[fmt](columns, out)


class TableWriter:
    """Aligned columns under a header; it must see every row first to know the widths.

    With `width`, a table wider than that is made to fit: the `droppable` columns are left
    out first (in that order, as few as needed; `left_out` names them), then the widest
    columns are cut (never below `MIN_COLUMN`), their cut cells ending in `…`.
    """

    def __init__(  # noqa: PLR0913 - the table's shape, each a keyword but the first three
        self,
        columns: Sequence[str],
        out: TextIO,
        indent: str = "",
        *,
        width: int | None = None,
        headers: bool = True,
        droppable: Sequence[str] = (),
    ) -> None:
        self._columns = columns
        self._out = out
        self._indent = indent
        self._width = width
        self._headers = headers
        self._droppable = droppable
        self._lines: list[list[str]] = [list(columns)]
        self.left_out: list[str] = []

    def row(self, row: Row) -> None:
        self._lines.append([_table_cell(row[c]) for c in self._columns])

    def close(self) -> None:
        widths = [max(len(line[i]) for line in self._lines) for i in range(len(self._columns))]
        kept = list(range(len(self._columns)))
        if self._width is not None:
            kept, widths = fitted(
                self._columns, widths, self._width - len(self._indent), self._droppable
            )
            self.left_out = [c for i, c in enumerate(self._columns) if i not in kept]
        for line in self._lines[0 if self._headers else 1 :]:
            cells = (
                _cut(line[i], width).ljust(width) for i, width in zip(kept, widths, strict=True)
            )
            self._out.write(self._indent + GAP.join(cells).rstrip() + "\n")
        self._out.flush()


def fitted(
    columns: Sequence[str], widths: Sequence[int], limit: int, droppable: Sequence[str] = ()
) -> tuple[list[int], list[int]]:
    """The columns kept (their indexes) and their widths, so the table fits in `limit`:
    `droppable` columns left out in that order while it is too wide, then every column
    wider than some cap cut to it (the cap as large as fits, at least `MIN_COLUMN`)."""
    kept = list(range(len(columns)))

    def total(chosen: list[int], cap: int) -> int:
        return sum(min(widths[i], cap) for i in chosen) + len(GAP) * (len(chosen) - 1)

    largest = max(widths, default=0)
    for name in droppable:
        if total(kept, largest) <= limit:
            break
        if name in columns and len(kept) > 1:
            kept.remove(columns.index(name))
    cap = largest
    while cap > MIN_COLUMN and total(kept, cap) > limit:
        cap -= 1
    return kept, [min(widths[i], cap) for i in kept]


def _cut(cell: str, width: int) -> str:
    return cell if len(cell) <= width else cell[: max(0, width - 1)] + ELLIPSIS


class TsvWriter:
    """Tab-separated values: a header, then one line per row, nothing aligned or cut.

    What a pipe gets by default. Empty for NULL, JSON text for lists and objects; a tab,
    newline or other control character in a value is written as an escape (`\\t`), so
    each row is one line of exactly one cell per column.
    """

    def __init__(
        self, columns: Sequence[str], out: TextIO, *, raw: bool = False, headers: bool = True
    ) -> None:
        self._columns = columns
        self._out = out
        self._cell: Callable[[Any], str] = _escaped_cell if raw else _safe_csv_cell
        self._started = not headers

    def row(self, row: Row) -> None:
        self._header()
        self._out.write("\t".join(self._cell(row[c]) for c in self._columns) + "\n")

    def close(self) -> None:
        self._header()
        self._out.flush()

    def _header(self) -> None:
        # Written with the first row, as CSV's: a query that fails prints nothing at all.
        if not self._started:
            self._out.write("\t".join(escape_control(c) for c in self._columns) + "\n")
            self._started = True


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
        self._out.flush()


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

    def __init__(
        self, columns: Sequence[str], out: TextIO, *, raw: bool = False, headers: bool = True
    ) -> None:
        self._columns = columns
        self._out = out
        self._csv = csv.writer(out, lineterminator="\n")
        # csv quotes a cell holding "\n" but not one holding a bare "\r", which readers take
        # for the end of the row: such rows are written with every cell quoted.
        self._quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
        self._started = not headers
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
