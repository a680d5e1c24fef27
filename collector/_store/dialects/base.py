"""The contract each supported database fulfils."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class HeldLock(Protocol):
    """A run lock being held."""

    async def ensure(self) -> None:
        """Make sure it is still held after the database was away (a restart releases a
        PostgreSQL advisory lock with its connection): take it again, or `DatabaseError` if
        another run took it meanwhile."""
        ...


class Dialect(Protocol):
    """One database: how to connect, upsert, sort, lock and read its errors."""

    name: str
    driver: str
    """The async DBAPI driver SQLAlchemy uses for it (`aiosqlite`, `asyncpg`)."""

    def engine(self, url: sa.URL) -> AsyncEngine:
        """An async engine tuned for one writer and a handful of readers."""
        ...

    def insert(self, table: sa.Table) -> Any:
        """`INSERT` with `on_conflict_do_update` (only the arguments both dialects share)."""
        ...

    def text_order(self, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        """`column` for ORDER BY, sorting by code point as every dialect must agree."""
        ...

    async def make_read_only(self, conn: AsyncConnection) -> None:
        """Make a connection refuse writes."""
        ...

    async def refuse_writes(self, conn: AsyncConnection) -> None:
        """Make a read-only connection also refuse what its read-only mode lets through,
        before it runs a statement someone else wrote (`collector query`)."""
        ...

    def run_lock(self, engine: AsyncEngine, name: str) -> AbstractAsyncContextManager[HeldLock]:
        """Hold lock `name` for a block, or raise `DatabaseError` at once if it is held."""
        ...

    def migration_lock(
        self, engine: AsyncEngine, name: str, wait: float
    ) -> AbstractAsyncContextManager[None]:
        """Hold lock `name` for a block, waiting up to `wait` seconds for it (then
        `DatabaseError`): one process migrates a database at a time, the others wait."""
        ...

    def use_schema(self, engine: AsyncEngine, schema: str) -> None:
        """Make every connection of `engine` use `schema` alone (`ConfigError` if the
        database has no schemas)."""
        ...

    async def create_schema(self, conn: AsyncConnection, schema: str) -> None:
        """Create `schema` if it does not exist."""
        ...

    def refused_data(self, error: DBAPIError) -> bool:
        """Whether the database refused the values written, rather than failed itself."""
        ...

    def missing(self, engine: AsyncEngine) -> bool:
        """Whether the database does not exist yet (reading must not create it)."""
        ...
