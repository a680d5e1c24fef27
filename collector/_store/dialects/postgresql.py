"""PostgreSQL: what teams share. asyncpg, jsonb, and session advisory locks for runs."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..._errors import DatabaseError


class PostgreSQL:
    name = "postgresql"
    driver = "asyncpg"

    def engine(self, url: sa.URL) -> AsyncEngine:
        return create_async_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)

    def insert(self, table: sa.Table) -> Any:
        return postgresql.insert(table)

    def text_order(self, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        # PostgreSQL sorts text by the database's locale, which mostly ignores punctuation;
        # "C" sorts by code point as SQLite does, so both list rows in the same order.
        return sa.collate(column, "C")

    async def make_read_only(self, conn: AsyncConnection) -> None:
        await conn.execution_options(postgresql_readonly=True)

    @asynccontextmanager
    async def run_lock(self, engine: AsyncEngine, name: str) -> AsyncIterator[None]:
        # A session-level advisory lock on a dedicated connection: the server releases it
        # when that connection ends, so a killed run never blocks the next.
        key = lock_key(name)
        async with engine.connect() as conn:
            locked = (await conn.execute(sa.select(sa.func.pg_try_advisory_lock(key)))).scalar()
            await conn.commit()
            if not locked:
                raise DatabaseError(
                    f"another collector run holds the lock '{name}' on this database"
                )
            try:
                yield
            finally:
                try:
                    await conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                    await conn.commit()
                except (SQLAlchemyError, OSError):
                    pass  # the connection is gone, and the server released the lock with it

    def refused_data(self, error: DBAPIError) -> bool:
        if isinstance(error, DataError | IntegrityError):
            return True
        # asyncpg's data exceptions reach SQLAlchemy as generic DBAPI errors; SQLSTATE
        # classes 22 (data exception) and 23 (integrity violation) say the values were refused.
        cause = error.orig.__cause__ if error.orig is not None else None
        return str(getattr(cause, "sqlstate", "")).startswith(("22", "23"))

    def missing(self, engine: AsyncEngine) -> bool:
        return False  # connecting tells; it never creates a database


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock`, from a lock name."""
    digest = hashlib.sha256(f"appflow-inventory:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
