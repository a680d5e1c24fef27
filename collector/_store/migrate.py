"""Schema migrations: alembic's scripts in `migrations/`, applied through the run's engine.

Every command reads the database's revision before it starts, and nearly always finds it at
head. So that costs one query, not alembic: `REVISIONS` names this code's migrations, oldest
first (tests/integration/test_migrations.py holds it to alembic's own history), and alembic,
which parses every script from source each time it is asked, loads only to migrate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .._errors import DatabaseError
from .dialects import dialect_named
from .engine import schema_of
from .errors import translated
from .lock import migration_lock

if TYPE_CHECKING:
    from alembic.config import Config

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")
"""This code's migrations, oldest first: a new script in `migrations/versions/` adds its
revision here."""
HEAD = REVISIONS[-1]
# alembic's bookkeeping table, in the engine's schema (the search path puts it there).
VERSION_TABLE = "alembic_version"


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    location = resources.files("collector.migrations")
    config.set_main_option("script_location", str(location))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration this code knows."""
    return HEAD


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at (None: never migrated), read as alembic reads it."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    if len(versions) > 1:
        # alembic's branches: this project's history is one line, so this is not its table.
        raise DatabaseError(
            f"the database's {VERSION_TABLE} table holds {len(versions)} revisions; "
            "it was not migrated by this collector"
        )
    return str(versions[0][0]) if versions else None


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(_alembic_config(connection), "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Apply pending migrations; refuse a database migrated by newer code.

    Processes may start together on one empty database (the shards of a CronJob): each
    migrates only under the database-wide migration lock, so one builds the schema while the
    others wait, then find it at head. A database already at head takes no lock.
    """
    with translated(engine):
        async with engine.connect() as connection:
            if await connection.run_sync(current_revision) == HEAD:
                return
    async with migrating(engine):
        with translated(engine):
            async with engine.begin() as connection:
                await _upgrade_on(connection)


@asynccontextmanager
async def migrating(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold the migration lock, with the engine's schema (`--schema`) created if missing.

    `upgrade` migrates inside it; so does alembic run by hand (`migrations/env.py`).
    """
    async with migration_lock(engine):
        schema = schema_of(engine)
        if schema is not None:
            with translated(engine):
                async with engine.begin() as connection:
                    await dialect_named(engine.dialect.name).create_schema(connection, schema)
        yield


async def _upgrade_on(connection: AsyncConnection) -> None:
    current = await connection.run_sync(current_revision)
    if current is not None and not revision_known(current):
        raise DatabaseError(
            f"database schema is at revision {current}, newer than this collector knows "
            f"(head {HEAD}); upgrade the collector"
        )
    if current != HEAD:
        await connection.run_sync(_upgrade)


def revision_known(revision: str) -> bool:
    """Whether `revision` is one of this collector's migrations (else a newer one's)."""
    return revision in REVISIONS
