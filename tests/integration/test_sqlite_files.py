"""The SQLite database file and the files SQLite makes beside it are private to their owner."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector import upgrade
from collector._store import create_engine


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _modes(path: Path) -> dict[str, int]:
    return {
        suffix: stat.S_IMODE(Path(f"{path}{suffix}").stat().st_mode)
        for suffix in ("", "-wal", "-shm")
    }


def _modes_while_open(path: Path) -> dict[str, int]:
    """Migrate a database and, while the engine still holds its connection, read the modes
    of the database, its write-ahead log and its shared-memory file."""

    async def go() -> dict[str, int]:
        engine = create_engine(f"sqlite:///{path}")
        try:
            await upgrade(engine)
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SELECT count(*) FROM collection_runs")
                return _modes(path)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_new_database_wal_and_shm_are_0600(tmp_path: Path) -> None:
    """Under umask 022 a new database, its -wal and its -shm are all created mode 0600."""
    assert _modes_while_open(tmp_path / "inventory.db") == {"": 0o600, "-wal": 0o600, "-shm": 0o600}


def test_existing_database_mode_is_kept_and_followed(tmp_path: Path) -> None:
    """An existing database keeps its mode, and SQLite gives -wal and -shm the same one."""
    path = tmp_path / "inventory.db"
    path.touch()
    path.chmod(0o640)
    assert _modes_while_open(path) == {"": 0o640, "-wal": 0o640, "-shm": 0o640}
