"""The alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from collector import upgrade
from collector._store import create_engine, head_revision
from collector._store.migrate import REVISIONS, _alembic_config, current_revision
from collector._store.schema import metadata


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def test_the_known_revisions_are_alembic_s_history() -> None:
    """`REVISIONS`, which spares every command from loading alembic, is alembic's own
    history of `migrations/versions`, oldest first, ending at its one head."""
    script = ScriptDirectory.from_config(_alembic_config())
    history = tuple(reversed([s.revision for s in script.walk_revisions()]))
    assert history == REVISIONS
    assert script.get_heads() == [head_revision()]


def test_the_revision_is_read_as_alembic_reads_it(database_url: str) -> None:
    """Never migrated, migrated part way and at head: the collector's own reading of the
    version table agrees with alembic's."""

    def both(connection: Connection) -> tuple[str | None, str | None]:
        return current_revision(connection), _revision(connection)

    async def go() -> list[tuple[str | None, str | None]]:
        engine = create_engine(database_url)
        try:
            readings = []
            for target in (None, "0003", "head"):
                async with engine.begin() as conn:
                    if target is not None:
                        await conn.run_sync(_upgrade_to, target)
                    readings.append(await conn.run_sync(both))
            return readings
        finally:
            await engine.dispose()

    assert asyncio.run(go()) == [(None, None), ("0003", "0003"), (head_revision(),) * 2]


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


def _upgrade_to(connection: Connection, revision: str) -> None:
    command.upgrade(_alembic_config(connection), revision)


def test_runs_before_per_resource_counts_keep_their_counts(database_url: str) -> None:
    """Upgrading past revision 0005 copies each earlier run's profile and flow counts into
    `collection_run_resources`, for the resources that run listed."""
    counts = ("seen", "created", "updated", "deleted", "restored")

    async def go() -> list[tuple[Any, ...]]:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_upgrade_to, "0004")
                for run_id, resources, base in (
                    ("old", None, 10),
                    ("both", "profiles,flows", 20),
                    ("flows", "flows", 30),
                ):
                    values = {
                        f"{prefix}_{name}": base + offset + index
                        for offset, prefix in ((0, "profiles"), (100, "flows"))
                        for index, name in enumerate(counts)
                    }
                    columns = ", ".join(values)
                    await conn.execute(
                        sa.text(
                            "INSERT INTO collection_runs (run_id, started_at, status, resources, "
                            f"{columns}) VALUES (:run_id, :at, 'succeeded', :resources, "
                            + ", ".join(f":{name}" for name in values)
                            + ")"
                        ),
                        {"run_id": run_id, "at": datetime(2026, 1, 1, tzinfo=UTC), **values}
                        | {"resources": resources},
                    )
            await upgrade(engine)
            async with engine.connect() as conn:
                rows = await conn.execute(
                    sa.text(
                        "SELECT run_id, resource, seen, created, updated, deleted, restored "
                        "FROM collection_run_resources ORDER BY run_id, resource"
                    )
                )
                return [tuple(row) for row in rows]
        finally:
            await engine.dispose()

    assert asyncio.run(go()) == [
        ("both", "flows", 120, 121, 122, 123, 124),
        ("both", "profiles", 20, 21, 22, 23, 24),
        ("flows", "flows", 130, 131, 132, 133, 134),
        ("old", "profiles", 10, 11, 12, 13, 14),
    ]
