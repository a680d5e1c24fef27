"""PostgreSQL: what teams share. asyncpg, jsonb, and session advisory locks for runs."""

from __future__ import annotations

import contextlib
import hashlib
import os
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..._config.database_url import SSL_FILES, TLS_PARAMETERS
from ..._errors import ConfigError, DatabaseError
from .base import HeldLock
from .schema_owner import check_schema_owner, foreign_objects_query, refuse_foreign


class PostgreSQL:
    name = "postgresql"
    driver = "asyncpg"

    def engine(self, url: sa.URL) -> AsyncEngine:
        url, tls = tls_argument(url)
        return create_async_engine(
            url,
            connect_args={} if tls is None else {"ssl": tls},
            pool_size=5,
            max_overflow=5,
            pool_pre_ping=True,
        )

    def insert(self, table: sa.Table) -> Any:
        return postgresql.insert(table)

    def text_order(self, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        # PostgreSQL sorts text by the database's locale, which mostly ignores punctuation;
        # "C" sorts by code point as SQLite does, so both list rows in the same order.
        return sa.collate(column, "C")

    async def make_read_only(self, conn: AsyncConnection) -> None:
        await conn.execution_options(postgresql_readonly=True)

    async def refuse_writes(self, conn: AsyncConnection) -> None:
        # A READ ONLY transaction refuses every write, and cannot be made read-write once a
        # statement ran in it: the read connection's schema check already did.
        return None

    @asynccontextmanager
    async def run_lock(self, engine: AsyncEngine, name: str) -> AsyncIterator[HeldLock]:
        # A session-level advisory lock on a dedicated connection: the server releases it
        # when that connection ends, so a killed run never blocks the next.
        held = _AdvisoryLock(engine, name)
        await held.take()
        try:
            yield held
        finally:
            await held.release()

    @asynccontextmanager
    async def migration_lock(
        self, engine: AsyncEngine, name: str, wait: float
    ) -> AsyncIterator[None]:
        # Like the run lock, a session advisory lock that dies with its connection; but a
        # process that finds it held waits (polling, so a signal still stops it).
        key = lock_key(name)
        async with engine.connect() as conn:
            try:
                deadline = anyio.current_time() + wait
                while not await _try_lock(conn, key):
                    if anyio.current_time() >= deadline:
                        raise DatabaseError(
                            f"waited {wait:g}s for another process to finish migrating "
                            "this database"
                        )
                    await anyio.sleep(MIGRATION_LOCK_POLL)
                yield
            finally:
                # Also after a cancelled wait: the lock may have been taken just before.
                with anyio.CancelScope(shield=True):
                    try:
                        await conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                        await conn.commit()
                    except (SQLAlchemyError, OSError):
                        pass  # the connection is gone, and the server released the lock

    def use_schema(self, engine: AsyncEngine, schema: str) -> None:
        def search_path(dbapi_connection: Any, _record: Any) -> None:
            # Outside a transaction, so no rollback undoes it. The name is checked by the
            # settings ([a-z_][a-z0-9_]*), so quoting it is enough. Before any statement
            # reads or writes the schema, on every connection: it must be the role's own.
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            cursor = dbapi_connection.cursor()
            try:
                check_schema_owner(cursor, schema)
                cursor.execute(f'SET SESSION search_path TO "{schema}"')
            finally:
                cursor.close()
                dbapi_connection.autocommit = autocommit

        sa.event.listen(engine.sync_engine, "connect", search_path, insert=True)

    async def create_schema(self, conn: AsyncConnection, schema: str) -> None:
        # Another role may have made it since this connection checked: IF NOT EXISTS would
        # then adopt theirs, so the owner is checked again in the same transaction.
        await conn.execute(
            sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}" AUTHORIZATION CURRENT_USER')
        )
        refuse_foreign(schema, (await conn.execute(sa.text(foreign_objects_query(schema)))).all())

    def refused_data(self, error: DBAPIError) -> bool:
        if isinstance(error, DataError | IntegrityError):
            return True
        # asyncpg's data exceptions reach SQLAlchemy as generic DBAPI errors; SQLSTATE
        # classes 22 (data exception) and 23 (integrity violation) say the values were refused.
        cause = error.orig.__cause__ if error.orig is not None else None
        return str(getattr(cause, "sqlstate", "")).startswith(("22", "23"))

    def missing(self, engine: AsyncEngine) -> bool:
        return False  # connecting tells; it never creates a database


class _AdvisoryLock:
    """A session advisory lock held on a connection of its own."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self._engine = engine
        self._name = name
        self._key = lock_key(name)
        self._conn: AsyncConnection | None = None

    async def take(self) -> None:
        conn = await self._engine.connect()
        try:
            if not await _try_lock(conn, self._key):
                raise DatabaseError(
                    f"another collector run holds the lock '{self._name}' on this database"
                )
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    async def ensure(self) -> None:
        conn = self._conn
        if conn is not None:
            try:
                await conn.execute(sa.select(1))
                await conn.commit()
                return
            except (SQLAlchemyError, OSError):
                # The server restarted or failed over: the lock went with the connection.
                await _closed(conn)
        self._conn = None
        try:
            await self.take()
        except DatabaseError as error:
            raise DatabaseError(f"{error}: it was taken while the database was away") from None

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.execute(sa.select(sa.func.pg_advisory_unlock(self._key)))
            await conn.commit()
        except (SQLAlchemyError, OSError):
            pass  # the connection is gone, and the server released the lock with it
        await _closed(conn)


async def _closed(conn: AsyncConnection) -> None:
    with contextlib.suppress(SQLAlchemyError, OSError):  # already gone
        await conn.close()


MIGRATION_LOCK_POLL = 0.2


async def _try_lock(conn: AsyncConnection, key: int) -> bool:
    locked = (await conn.execute(sa.select(sa.func.pg_try_advisory_lock(key)))).scalar()
    await conn.commit()
    return bool(locked)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock`, from a lock name."""
    digest = hashlib.sha256(f"appflow-inventory:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def tls_argument(url: sa.URL) -> tuple[sa.URL, str | ssl.SSLContext | None]:
    """The URL without libpq's TLS parameters, and asyncpg's `ssl=` argument made of them.

    asyncpg takes no `sslmode` argument (passed through, it ends in a TypeError), but its
    `ssl=` takes libpq's mode names, with libpq's defaults (`PGSSLROOTCERT`,
    `~/.postgresql/root.crt`). Certificate files given in the URL go into an `SSLContext`
    of ours. None: no TLS parameter, asyncpg's default (`prefer`, or `PGSSLMODE`).
    `collector._config.database_url` has already refused modes and combinations libpq
    would not accept.
    """
    given = {name: _last(url.query[name]) for name in TLS_PARAMETERS if name in url.query}
    url = url.difference_update_query(TLS_PARAMETERS)
    mode = given.get("sslmode")
    if not any(name in given for name in SSL_FILES):
        return url, mode
    return url, _context(mode or "require", given)


def _last(value: str | tuple[str, ...]) -> str:
    return value if isinstance(value, str) else value[-1]


def _context(mode: str, files: dict[str, str]) -> ssl.SSLContext:
    """verify-full: a known CA signed a certificate for this host name; verify-ca: a known CA
    signed it; require: encrypted, and checked against `sslrootcert` if one is given."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = mode == "verify-full"
    root = files.get("sslrootcert")
    if root is None and mode == "require":
        context.verify_mode = ssl.CERT_NONE
    elif root == "system":
        context.load_default_certs()
    else:
        # libpq's default when the URL names none: PGSSLROOTCERT, else ~/.postgresql/root.crt.
        default = os.environ.get("PGSSLROOTCERT") or str(Path.home() / ".postgresql/root.crt")
        _load("sslrootcert", root or default, context.load_verify_locations)
    if "sslcert" in files:
        key = files.get("sslkey")
        _load("sslcert", files["sslcert"], lambda cert: context.load_cert_chain(cert, key))
    return context


def _load(name: str, path: str, load: Callable[[str], object]) -> None:
    try:
        load(path)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", None) or exc.strerror or exc
        raise ConfigError(f"database URL: {name} {path}: {reason}") from None
