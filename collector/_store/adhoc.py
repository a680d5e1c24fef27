"""A statement of the user's own (`collector query`), run on the read-only connection.

Writes are refused by the database itself, not by looking at the statement: PostgreSQL's
connection is in a READ ONLY transaction, SQLite's has `query_only` and an authorizer that
allows reading alone (`Dialect.refuse_writes`). A statement the database refuses, or that
is not valid SQL, is the user's error: `ConfigError`, exit 2.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncResult

from .._errors import ConfigError
from .dialects import dialect_named
from .errors import driver_errors, one_line

Row = Any


def _refusals() -> tuple[type[BaseException], ...]:
    # What the database (or its driver, before SQLAlchemy wraps it) says of a statement it
    # refuses or cannot run; not the failures of the connection itself.
    return (DBAPIError, StatementError, sqlite3.Error, *driver_errors("PostgresError"))


@contextmanager
def _refused() -> Any:
    try:
        yield
    except _refusals() as exc:
        raise ConfigError(f"the database refused the query: {one_line(exc)}") from None


async def user_query(conn: AsyncConnection, sql: str) -> tuple[tuple[str, ...], _Streamed]:
    """The column names of `sql`'s result and its rows, streamed."""
    if not sql.strip():
        raise ConfigError("the query is empty")
    await dialect_named(conn.dialect.name).refuse_writes(conn)
    # Every colon is the user's own: none starts a bind parameter.
    statement = sa.text(sql.replace(":", "\\:"))
    with _refused():
        result = await conn.stream(statement)
    return tuple(result.keys()), _Streamed(result)


class _Streamed:
    """The rows of a result, streamed; `aclose` closes the result even if none was read."""

    def __init__(self, result: AsyncResult[Any]) -> None:
        self._result = result
        self._rows = result.mappings()

    def __aiter__(self) -> _Streamed:
        return self

    async def __anext__(self) -> Row:
        with _refused():
            return await self._rows.__anext__()

    async def aclose(self) -> None:
        await self._result.close()
