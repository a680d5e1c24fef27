"""Engines for the URLs users write (`sqlite:///inventory.db`, `postgresql://u@host/db`).

The URL is checked by `collector._config.database_url`; here it becomes an async engine of
its dialect, with the async driver chosen for the user.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine

from .._config import check_schema
from .._config.database_url import parse_database_url, redact
from .._errors import ConfigError
from .dialects import dialect_named
from .errors import translated

# The schema each engine keeps the inventory in (`--schema`), for the locks and migrations.
_SCHEMAS: weakref.WeakKeyDictionary[sa.Engine, str] = weakref.WeakKeyDictionary()


def async_url(url: str) -> sa.URL:
    """A user's database URL with its dialect's async driver; `ConfigError` if invalid."""
    checked = parse_database_url(url)
    try:
        parsed = sa.make_url(checked.text)
    except (ArgumentError, ValueError):
        raise ConfigError(f"database URL {redact(url)!r} is not a valid URL") from None
    dialect = dialect_named(checked.backend)
    return parsed.set(drivername=f"{dialect.name}+{dialect.driver}")


def create_engine(url: str, schema: str | None = None) -> AsyncEngine:
    """An async engine for a user's URL, tuned for one writer and a handful of readers.

    With `schema` (PostgreSQL only), every connection sees that schema alone: the tables,
    alembic's version table and the read queries all live there.
    """
    parsed = async_url(url)
    dialect = dialect_named(parsed.get_backend_name())
    engine = dialect.engine(parsed)
    if schema is not None:
        dialect.use_schema(engine, check_schema(schema))
        _SCHEMAS[engine.sync_engine] = schema
    return engine


def schema_of(engine: AsyncEngine) -> str | None:
    """The schema an engine keeps the inventory in (None: the database's default)."""
    return _SCHEMAS.get(engine.sync_engine)


@asynccontextmanager
async def open_engine(url: str, schema: str | None = None) -> AsyncIterator[AsyncEngine]:
    """An engine for the block; its connections are closed however the block ends."""
    engine = create_engine(url, schema)
    try:
        yield engine
    finally:
        with anyio.CancelScope(shield=True), translated(engine):
            await engine.dispose()
