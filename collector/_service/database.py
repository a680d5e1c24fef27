"""The database use cases besides collecting: migrating it, and reading the inventory."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from .._store import (
    DatabaseStatus,
    Reader,
    Rows,
    change_columns,
    inventory_columns,
    open_engine,
    open_reader,
    record_columns,
    sqlite_runs_all_labelled,
    table_columns,
    upgrade,
)

__all__ = [
    "DatabaseStatus",
    "Reader",
    "Rows",
    "change_columns",
    "inventory_columns",
    "is_labelled_inventory",
    "open_inventory",
    "record_columns",
    "table_columns",
    "upgrade_database",
]


async def upgrade_database(database_url: str, schema: str | None = None) -> None:
    """Apply pending migrations; `DatabaseError` if the database cannot be used."""
    async with open_engine(database_url, schema) as engine:
        await upgrade(engine)


def open_inventory(
    database_url: str, schema: str | None = None
) -> AbstractAsyncContextManager[Reader]:
    """The inventory, read-only; `DatabaseError` unless it holds this collector's schema."""
    return open_reader(database_url, schema)


def is_labelled_inventory(sqlite_file: str, run_label: str) -> bool:
    """Whether a SQLite file is an inventory all of whose runs carry `run_label`."""
    return sqlite_runs_all_labelled(sqlite_file, run_label)
