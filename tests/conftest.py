"""Fixtures: databases (a SQLite file, and a fresh PostgreSQL database per test)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa

POSTGRES_URL = os.environ.get("COLLECTOR_TEST_POSTGRES_URL")


def _admin_url() -> str:
    assert POSTGRES_URL is not None
    return POSTGRES_URL


async def _admin(statement: str) -> None:
    url = sa.make_url(_admin_url())
    conn = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server; dropped afterwards."""
    if POSTGRES_URL is None:
        if os.environ.get("CI"):
            pytest.fail("COLLECTOR_TEST_POSTGRES_URL is not set: run the tests with `make test`")
        pytest.skip("no PostgreSQL server: run the tests with `make test`")
    name = f"t_{uuid.uuid4().hex[:16]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test against a SQLite file and against PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inventory.db'}"
    else:
        yield from postgres_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'inventory.db'}"
