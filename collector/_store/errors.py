"""The one place where SQLAlchemy's and the drivers' exceptions become `DatabaseError`s.

Every message names the database by its URL with the password masked.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from alembic.util.exc import CommandError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from .._config.database_url import redact
from .._errors import CollectorError, DatabaseError, RefusedDataError, truncated
from .dialects import dialect_named

# What a database, its driver or the network can raise; anything else is a bug of ours.
_DATABASE_FAILURES = (
    SQLAlchemyError,
    OSError,
    CommandError,
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


def display_url(engine: AsyncEngine) -> str:
    """The engine's URL as the user wrote it (no async driver), password masked."""
    url = engine.url.set(drivername=engine.url.get_backend_name())
    return redact(url.render_as_string(hide_password=False))


@contextmanager
def translated(engine: AsyncEngine) -> Iterator[None]:
    """Raise database failures inside the block as `DatabaseError` or `RefusedDataError`."""
    try:
        yield
    except CollectorError:
        raise
    except DBAPIError as exc:
        if dialect_named(engine.dialect.name).refused_data(exc):
            raise RefusedDataError(one_line(exc)) from exc
        raise DatabaseError(f"database {display_url(engine)}: {one_line(exc)}") from exc
    except _DATABASE_FAILURES as exc:
        raise DatabaseError(f"database {display_url(engine)}: {one_line(exc)}") from exc


def one_line(exc: BaseException) -> str:
    """The first line of the driver's own message (SQLAlchemy appends SQL and links),
    truncated: a driver may quote the values it refused."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return truncated(text.splitlines()[0]) if text else type(exc).__name__
