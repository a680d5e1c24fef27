"""What the writer needs to know of one resource: its tables, its key, how to build its rows.

The history rules and the batch logic are the same for every resource (`writer.py`); a
resource is a `ResourceSpec`, registered in `writer.RESOURCE_SPECS` by the resource's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class Children:
    """Rows that hang off a record (a profile's flattened properties, a flow's links),
    replaced whenever the record's content changes."""

    table: sa.Table
    rows: Callable[[Any], Iterable[dict[str, Any]]]
    cleared_on_delete: bool
    """Whether a deleted record loses them (current state only), or keeps its last ones."""


@dataclass(frozen=True)
class ResourceSpec:
    """One resource of the inventory, as the writer stores it."""

    name: str
    table: sa.Table
    """One row per ARN ever seen, with `version`, `content_hash`, `first_seen_at`,
    `last_seen_at` and `deleted_at` columns."""
    versions: sa.Table
    """Its append-only history, keyed by (`key`, `version`)."""
    key: str
    """The ARN column, in both tables."""
    row: Callable[[Any, int, datetime], dict[str, Any]]
    """The table's row for a record at a version, first seen at a time."""
    changed_fields: Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]
    children: tuple[Children, ...] = ()
    seen_columns: tuple[str, ...] = ()
    """Columns refreshed on every sighting of an unchanged record, beside `last_seen_at`."""
    seen: Callable[[Any], dict[str, Any]] = field(default=lambda record: {})
    """The values of `seen_columns` for a record."""

    @property
    def arn(self) -> sa.Column[Any]:
        return self.table.c[self.key]
