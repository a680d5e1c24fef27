"""A resource's tables, found in the schema by the names its descriptor gives."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa

from .._model.resource import Child, Resource
from .schema import metadata


@dataclass(frozen=True)
class ResourceTables:
    """The tables one resource is written to: its rows, its history, its child rows."""

    resource: Resource
    table: sa.Table
    versions: sa.Table
    children: tuple[tuple[Child, sa.Table], ...]

    @property
    def arn(self) -> sa.Column[Any]:
        """The ARN column of `table`."""
        return self.table.c[self.resource.key]


@cache
def tables_of(resource: Resource) -> ResourceTables:
    """The tables of `resource`; `KeyError` names a table the schema lacks (a bug)."""
    return ResourceTables(
        resource,
        metadata.tables[resource.table],
        metadata.tables[resource.versions],
        tuple((child, metadata.tables[child.table]) for child in resource.children),
    )
