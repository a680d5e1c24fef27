"""Database URLs, engines and migrations.

Users write plain SQLAlchemy URLs (`sqlite:///inventory.db`, `postgresql://u:pw@host/db`);
the async driver is chosen here.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ._errors import ConfigError, DatabaseError

_ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
_ACCEPTED_DRIVERS = {
    "sqlite": {None, "aiosqlite", "pysqlite"},
    "postgresql": {None, "asyncpg", "psycopg2", "psycopg"},
}


def async_url(url: str) -> sa.URL:
    """Parse a user's database URL and pick the async driver for its dialect."""
    try:
        parsed = sa.make_url(url.strip())
    except (ArgumentError, ValueError):
        raise ConfigError(f"database URL {redact(url)!r} is not a valid URL") from None
    backend = "postgresql" if parsed.get_backend_name() == "postgres" else parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ConfigError(
            f"database URL uses {backend!r}; supported are sqlite:/// and postgresql://"
        )
    driver = parsed.get_driver_name() if "+" in parsed.drivername else None
    if driver not in _ACCEPTED_DRIVERS[backend]:
        raise ConfigError(f"database driver {driver!r} is not supported for {backend}")
    if backend == "sqlite" and parsed.database in (None, ""):
        raise ConfigError("sqlite URL needs a file: sqlite:///path/to/inventory.db")
    return parsed.set(drivername=f"{backend}+{_ASYNC_DRIVERS[backend]}")


def redact(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable URL>"


def create_engine(url: str) -> AsyncEngine:
    """An async engine for a user's URL, tuned for one writer and a handful of readers."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(parsed, connect_args={"timeout": 30})
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(parsed, pool_size=5, max_overflow=5, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers query while a run writes; NORMAL is durable at each commit in WAL mode
    # except against power loss, which loses the last commits but never corrupts.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    location = resources.files("collector.migrations")
    config.set_main_option("script_location", str(location))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration this code knows."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


async def upgrade(engine: AsyncEngine) -> None:
    """Apply pending migrations; refuse a database migrated by newer code."""
    async with engine.begin() as connection:
        current = await connection.run_sync(_current_revision)
        script = ScriptDirectory.from_config(_alembic_config())
        if current is not None and not _known(script, current):
            raise DatabaseError(
                f"database schema is at revision {current}, newer than this collector knows "
                f"(head {head_revision()}); upgrade the collector"
            )
        if current != script.get_current_head():
            await connection.run_sync(_upgrade)
