"""A safe first start: processes that start together on an empty database migrate it once,
under one database-wide lock, and all succeed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

import pytest

from collector._store import create_engine, head_revision, migration_lock
from collector.simulator import PROFILES, Organization, Simulator, generate_organization

from ..support import collector_command, fetch, run_args

REGIONS = ("us-east-1", "eu-west-1")
SHARDS = 4


@pytest.fixture
def org() -> Organization:
    return generate_organization(
        seed=12, accounts=24, empty_fraction=0.4, profiles_per_scope=(1, 5), regions=REGIONS
    )


def start_all(commands: list[list[str]], env: dict[str, str]) -> list[subprocess.Popen[str]]:
    """Start every command at once, as a CronJob starts its pods."""
    return [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for command in commands
    ]


def finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    """(exit code, stderr) of each process, waited for."""
    results = []
    for process in processes:
        _, err = process.communicate(timeout=300)
        results.append((process.returncode, err))
    return results


@pytest.mark.slow
def test_shards_started_together_on_an_empty_database_all_succeed(
    postgres_url: str, org: Organization, sim: Simulator
) -> None:
    """Four `collector run --shard i/4` processes started at once against an empty
    PostgreSQL database all exit 0: one builds the schema, the others wait for it, and
    together they collect every profile once."""
    commands = [
        collector_command(*run_args(postgres_url, REGIONS, "--shard", f"{i}/{SHARDS}"))
        for i in range(SHARDS)
    ]
    results = finish(start_all(commands, {**os.environ, **sim.env()}))
    assert [code for code, _ in results] == [0] * SHARDS, [err for _, err in results]
    assert fetch(postgres_url, "SELECT version_num FROM alembic_version") == [
        {"version_num": head_revision()}
    ]
    runs = fetch(postgres_url, "SELECT shard, status FROM collection_runs ORDER BY shard")
    assert runs == [{"shard": f"{i}/{SHARDS}", "status": "succeeded"} for i in range(SHARDS)]
    stored = fetch(postgres_url, "SELECT connector_profile_arn FROM connector_profiles")
    assert sorted(r["connector_profile_arn"] for r in stored) == sorted(
        str(p["connectorProfileArn"]) for _, p in org.all_items(PROFILES)
    )


def test_upgrades_started_together_all_succeed(database_url: str) -> None:
    """Four `collector db upgrade` processes started at once on an empty database (SQLite
    file or PostgreSQL) all exit 0 and leave one schema at head."""
    env = {k: v for k, v in os.environ.items() if k != "COLLECTOR_DATABASE_URL"}
    command = collector_command("db", "upgrade", "--database-url", database_url)
    results = finish(start_all([command] * 4, env))
    assert [code for code, _ in results] == [0] * 4, [err for _, err in results]
    assert fetch(database_url, "SELECT version_num FROM alembic_version") == [
        {"version_num": head_revision()}
    ]


def test_a_migration_waits_for_the_migration_lock(database_url: str) -> None:
    """While another process holds the database's migration lock, `collector db upgrade`
    waits (rather than failing or racing), then migrates once the lock is released."""
    env = {k: v for k, v in os.environ.items() if k != "COLLECTOR_DATABASE_URL"}

    async def hold_then_release() -> tuple[int | None, bytes, float]:
        engine = create_engine(database_url)
        try:
            async with migration_lock(engine):
                process = await asyncio.create_subprocess_exec(
                    *collector_command("db", "upgrade", "--database-url", database_url),
                    env=env,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                await asyncio.sleep(3)
                assert process.returncode is None, await process.communicate()
        finally:
            await engine.dispose()
        released = time.monotonic()
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, err
        return process.returncode, out, time.monotonic() - released

    _, out, waited = asyncio.run(hold_then_release())
    assert b"is up to date" in out
    assert waited < 30
