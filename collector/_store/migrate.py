"""Schema migrations: alembic's scripts in `migrations/`, applied through the run's engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .._errors import DatabaseError
from .dialects import dialect_named
from .engine import schema_of
from .errors import translated
from .lock import migration_lock


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


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


async def upgrade(engine: AsyncEngine) -> None:
    """Apply pending migrations; refuse a database migrated by newer code.

    Processes may start together on one empty database (the shards of a CronJob): each
    migrates only under the database-wide migration lock, so one builds the schema while the
    others wait, then find it at head. A database already at head takes no lock.
    """
    with translated(engine):
        async with engine.connect() as connection:
            if await connection.run_sync(current_revision) == head_revision():
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
    script = ScriptDirectory.from_config(_alembic_config())
    if current is not None and not _known(script, current):
        raise DatabaseError(
            f"database schema is at revision {current}, newer than this collector knows "
            f"(head {head_revision()}); upgrade the collector"
        )
    if current != script.get_current_head():
        await connection.run_sync(_upgrade)


def revision_known(revision: str) -> bool:
    """Whether `revision` is one of this collector's migrations (else a newer one's)."""
    return _known(ScriptDirectory.from_config(_alembic_config()), revision)
