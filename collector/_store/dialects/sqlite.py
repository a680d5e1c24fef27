"""SQLite: the embedded default. One file, WAL mode, a file lock beside it for runs."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..._errors import ConfigError, DatabaseError
from ..._files import LinkedFileError, ensure_private, open_private, refuse_link
from .base import HeldLock

SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database, named after it."""


class SQLite:
    name = "sqlite"
    driver = "aiosqlite"

    def engine(self, url: sa.URL) -> AsyncEngine:
        engine = create_async_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine.sync_engine, "do_connect", _create_private(engine))
        sa.event.listen(engine.sync_engine, "connect", _pragmas)
        return engine

    def insert(self, table: sa.Table) -> Any:
        return sqlite.insert(table)

    def text_order(self, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        return column  # SQLite compares text by code point already

    async def make_read_only(self, conn: AsyncConnection) -> None:
        await conn.exec_driver_sql("PRAGMA query_only = ON")

    async def refuse_writes(self, conn: AsyncConnection) -> None:
        # `query_only` still lets ATTACH create a file, a pragma rewrite the database's
        # header, and `PRAGMA query_only = OFF` through: SQLite's authorizer refuses every
        # action but reading, whatever the statement says.
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None  # the connection is open: it just ran the schema check
        await raw.set_authorizer(_reads_only)

    @asynccontextmanager
    async def run_lock(self, engine: AsyncEngine, name: str) -> AsyncIterator[HeldLock]:
        # The kernel releases an flock when the process ends, however it ends.
        with _FileLock(Path(f"{database_file(engine)}.{name}.lock")):
            yield _FileHeld()

    @asynccontextmanager
    async def migration_lock(
        self, engine: AsyncEngine, name: str, wait: float
    ) -> AsyncIterator[None]:
        # A second flock beside the database, waited for: SQLite's own write lock is taken
        # only once the first DDL statement runs, after the schema's revision was read.
        database = database_file(engine)
        if database in ("", ":memory:"):
            yield  # a private database: no other process can see it
            return
        fd = await _wait_for_flock(Path(f"{database}.{name}.lock"), wait)
        try:
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def use_schema(self, engine: AsyncEngine, schema: str) -> None:
        raise ConfigError("--schema needs a PostgreSQL database; SQLite has no schemas")

    async def create_schema(self, conn: AsyncConnection, schema: str) -> None:
        raise ConfigError("--schema needs a PostgreSQL database; SQLite has no schemas")

    def refused_data(self, error: DBAPIError) -> bool:
        return isinstance(error, DataError | IntegrityError)

    def missing(self, engine: AsyncEngine) -> bool:
        path = database_file(engine)
        return path not in ("", ":memory:") and not _is_uri(engine) and not Path(path).exists()


_READ_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
# Pragmas that only describe the schema (as `PRAGMA table_info(t)` or `pragma_table_info(t)`).
_DESCRIBING_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "database_list",
        "collation_list",
        "function_list",
        "pragma_list",
    }
)


def _reads_only(action: int, arg1: str | None, *_: str | None) -> int:
    """SQLite's authorizer callback: allow reading, deny anything else."""
    if action in _READ_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _DESCRIBING_PRAGMAS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _create_private(engine: AsyncEngine) -> Any:
    """Before SQLite opens a database file that does not exist yet, create it mode 0600.

    The inventory maps an organization, so it is not for every user of the machine; SQLite
    gives its -wal and -shm files the database file's mode (and opens them without following
    links). An existing file keeps its mode; a link at the database's name is refused.
    """

    def create(*_: Any) -> None:
        path = database_file(engine)
        if path in ("", ":memory:") or "mode=ro" in str(engine.url.database):
            return
        try:
            # SQLite follows a link at the database's name, and creates a dangling one's
            # target: a link there is refused instead. It opens the files it keeps beside
            # the database without following links, but refusing them here says why.
            ensure_private(Path(path))
            for suffix in SQLITE_COMPANIONS:
                refuse_link(Path(path + suffix))
        except LinkedFileError as exc:
            raise DatabaseError(f"database file {exc.filename} {exc.strerror}") from None
        except OSError:
            pass  # SQLite reports why it cannot open it, in its own words

    return create


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers query while a run writes; NORMAL is durable at each commit in WAL mode
    # except against power loss, which loses the last commits but never corrupts.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _is_uri(engine: AsyncEngine) -> bool:
    return str(engine.url.query.get("uri", "")).lower() in ("true", "1")


def database_file(engine: AsyncEngine) -> str:
    """The database file of a SQLite engine, also for `file:...?uri=true` URLs."""
    database = engine.url.database or ""
    if _is_uri(engine):
        database = database.removeprefix("file:").split("?", 1)[0]
    return database


MIGRATION_LOCK_POLL = 0.1


async def _wait_for_flock(path: Path, wait: float) -> int:
    """An open descriptor of `path` holding its exclusive flock, waited for (polling, so a
    signal still stops the wait) up to `wait` seconds."""
    fd = _open_lock_file(path)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DatabaseError(
                        f"waited {wait:g}s for another process to finish migrating this database"
                    ) from None
                await anyio.sleep(MIGRATION_LOCK_POLL)
    except BaseException:
        os.close(fd)
        raise


def _open_lock_file(path: Path) -> int:
    """The lock file, mode 0600, refused unless it is a plain file of its own."""
    try:
        return open_private(path)
    except LinkedFileError as exc:
        raise DatabaseError(f"lock file {path} {exc.strerror}") from None
    except OSError as exc:
        raise DatabaseError(f"cannot open lock file {path}: {exc.strerror}") from None


class _FileLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def __enter__(self) -> None:
        fd = self._open()
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

    def _open(self) -> int:
        # A link planted at its name would make the truncation below empty another file.
        return _open_lock_file(self._path)

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            # Closing releases the lock; the file stays, harmless and reused.
            os.close(self._fd)
            self._fd = None


class _FileHeld:
    """An flock: the database being away (it is a file) cannot release it."""

    async def ensure(self) -> None:
        return None
