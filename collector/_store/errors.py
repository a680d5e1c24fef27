"""The one place where SQLAlchemy's and the drivers' exceptions become `DatabaseError`s.

Every message names the database by its URL with the password masked.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from .._config.database_url import redact
from .._errors import (
    CollectorError,
    DatabaseError,
    DatabaseUnavailableError,
    RefusedDataError,
    truncated,
)
from .dialects import dialect_named


def loaded_errors(module: str, *names: str) -> tuple[type[BaseException], ...]:
    """The exception classes called `names` of `module`, if something has loaded it: what
    was never imported cannot have raised, so a run does not import a library to catch it."""
    found = sys.modules.get(module)
    return tuple(getattr(found, name) for name in names) if found is not None else ()


def driver_errors(*names: str) -> tuple[type[BaseException], ...]:
    """asyncpg's exception classes called `names`: SQLAlchemy imports asyncpg with the first
    PostgreSQL engine (so a run on SQLite never pays its import)."""
    return loaded_errors("asyncpg", *names)


def _away() -> tuple[type[BaseException], ...]:
    # A database that is away for now: the connection was refused, reset or ended by a
    # restart, a shutdown or a failover (SQLSTATE classes 08 and 57P0x), or timed out.
    return (
        ConnectionError,
        TimeoutError,
        *driver_errors(
            "PostgresConnectionError",
            "CannotConnectNowError",
            "AdminShutdownError",
            "CrashShutdownError",
            "ConnectionDoesNotExistError",
        ),
    )


def _database_failures() -> tuple[type[BaseException], ...]:
    # What a database, its driver or the network can raise; anything else is a bug of ours.
    return (
        SQLAlchemyError,
        OSError,
        # Only a migration loads alembic (`migrate`).
        *loaded_errors("alembic.util.exc", "CommandError"),
        sqlite3.Error,
        *driver_errors("PostgresError", "InterfaceError"),
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
        raise _database_error(engine, exc) from exc
    except _database_failures() as exc:
        raise _database_error(engine, exc) from exc


def _database_error(engine: AsyncEngine, exc: BaseException) -> DatabaseError:
    message = f"database {display_url(engine)}: {one_line(exc)}"
    return DatabaseUnavailableError(message) if unavailable(exc) else DatabaseError(message)


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database is away (refused, reset, restarting, shut down)
    rather than that it refused what was asked of it."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, _away()):
            return True
        orig = getattr(cause, "orig", None)
        cause = orig if isinstance(orig, BaseException) else cause.__cause__
    return False


def one_line(exc: BaseException) -> str:
    """The first line of the driver's own message (SQLAlchemy appends SQL and links),
    truncated: a driver may quote the values it refused."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return truncated(text.splitlines()[0]) if text else type(exc).__name__
