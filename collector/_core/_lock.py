"""One run at a time per database (and per shard).

PostgreSQL: a session-level advisory lock, held on a dedicated connection for the whole run;
the server releases it when that connection ends, so a killed run never blocks the next.
SQLite: an exclusive `flock` on a file next to the database; the kernel releases it when the
process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ._errors import DatabaseError


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock`, from a lock name."""
    digest = hashlib.sha256(f"appflow-inventory:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@asynccontextmanager
async def run_lock(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    """Hold the lock `name` for the duration of the block, or raise `DatabaseError` at once."""
    if engine.dialect.name == "postgresql":
        async with _advisory_lock(engine, name):
            yield
    else:
        with _FileLock(Path(f"{sqlite_path(engine)}.{name}.lock")):
            yield


@asynccontextmanager
async def _advisory_lock(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    key = lock_key(name)
    async with engine.connect() as conn:
        locked = (await conn.execute(sa.select(sa.func.pg_try_advisory_lock(key)))).scalar()
        await conn.commit()
        if not locked:
            raise DatabaseError(f"another collector run holds the lock '{name}' on this database")
        try:
            yield
        finally:
            try:
                await conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                await conn.commit()
            except (SQLAlchemyError, OSError):
                # The connection is gone, and the server released the lock with it.
                pass


def sqlite_path(engine: AsyncEngine) -> str:
    """The database file of a SQLite engine, also for `file:...?uri=true` URLs."""
    database = engine.url.database or ""
    if str(engine.url.query.get("uri", "")).lower() in ("true", "1"):
        database = database.removeprefix("file:").split("?", 1)[0]
    return database


class _FileLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def __enter__(self) -> None:
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DatabaseError(f"cannot open lock file {self._path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseError(
                f"another collector run holds the lock {self._path} on this database"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            # Closing releases the lock; the file stays, harmless and reused.
            os.close(self._fd)
            self._fd = None
