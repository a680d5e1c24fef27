"""The alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from collector import upgrade
from collector._store import create_engine, head_revision
from collector._store.schema import metadata


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def test_migrated_schema_matches_the_code(database_url: str) -> None:
    """After `upgrade`, autogenerate finds nothing to change, and upgrading twice is a no-op."""

    async def go() -> tuple[list[Any], str | None]:
        engine = create_engine(database_url)
        try:
            await upgrade(engine)
            await upgrade(engine)
            async with engine.connect() as conn:
                return await conn.run_sync(_differences), await conn.run_sync(_revision)
        finally:
            await engine.dispose()

    differences, revision = asyncio.run(go())
    assert differences == []
    assert revision == head_revision()
