"""Read-side queries: changes in a window, one profile's history, the inventory at a moment.

Every query selects through the Table objects, so `UtcDateTime` and `JSON` decode values the
same way on SQLite and PostgreSQL, and compares times through bound, time-zone-aware
parameters. Nothing here writes: connections are read-only, and a database the collector has
not migrated is refused, never migrated.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from ._database import async_url, create_engine, head_revision, redact
from ._errors import ConfigError, DatabaseError
from ._schema import connector_profile_versions, connector_profiles

T = TypeVar("T")

profiles = connector_profiles
versions = connector_profile_versions

# Rows fetched per round trip while streaming: memory stays bounded whatever the table size.
BATCH = 500

CHANGE_COLUMNS = (
    "valid_from",
    "change_type",
    "account_id",
    "region",
    "connector_type",
    "connector_profile_name",
    "connector_profile_arn",
    "version",
    "changed_fields",
    "run_id",
)
HISTORY_COLUMNS = ("version", "change_type", "valid_from", "valid_to", "changed_fields", "run_id")
INVENTORY_COLUMNS = (
    "account_id",
    "region",
    "connector_type",
    "connector_profile_name",
    "connector_profile_arn",
    "version",
)
EXPORT_COLUMNS = tuple(column.name for column in profiles.columns)

WHEN_FORMS = (
    "ISO-8601 (2026-11-01, 2026-11-01T12:00:00Z, 2026-11-01T14:00+02:00) or an age (30m, 24h, 7d)"
)
_AGE = re.compile(r"(\d{1,9})([smhdw])", re.ASCII)
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, option: str, now: datetime) -> datetime:
    """An aware UTC time from ISO-8601 (naive means UTC) or an age before `now` (`7d`)."""
    value = text.strip()
    try:
        age = _AGE.fullmatch(value)
        if age:
            return now - timedelta(**{_AGE_UNITS[age[2]]: int(age[1])})
        stamp = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise ConfigError(f"{option} {text!r} is not a time: use {WHEN_FORMS}") from None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def changes_query(
    dialect: str, since: datetime, until: datetime | None, accounts: Sequence[str]
) -> sa.Select[Any]:
    """Versions with `since <= valid_from < until`, newest first."""
    query = (
        sa.select(
            versions.c.valid_from,
            versions.c.change_type,
            profiles.c.account_id,
            profiles.c.region,
            profiles.c.connector_type,
            profiles.c.connector_profile_name,
            versions.c.connector_profile_arn,
            versions.c.version,
            versions.c.changed_fields,
            versions.c.run_id,
        )
        .join_from(versions, profiles, _same_profile())
        .where(versions.c.valid_from >= since)
        .order_by(
            versions.c.valid_from.desc(),
            _text_order(versions.c.connector_profile_arn, dialect),
            versions.c.version.desc(),
        )
    )
    if until is not None:
        query = query.where(versions.c.valid_from < until)
    return _streamed(_in_accounts(query, accounts))


def history_query(arn: str, *, with_snapshot: bool) -> sa.Select[Any]:
    """Every version of one profile, oldest first."""
    columns = [versions.c[name] for name in HISTORY_COLUMNS]
    if with_snapshot:
        columns.append(versions.c.snapshot)
    # A profile has few versions, so this one is read whole rather than streamed.
    return (
        sa.select(*columns)
        .where(versions.c.connector_profile_arn == arn)
        .order_by(versions.c.version)
    )


def inventory_query(
    dialect: str, as_of: datetime | None, accounts: Sequence[str], *, with_snapshot: bool
) -> sa.Select[Any]:
    """The profiles that existed at `as_of` (None: now), with the version valid then."""
    columns = [
        profiles.c.account_id,
        profiles.c.region,
        profiles.c.connector_type,
        profiles.c.connector_profile_name,
        profiles.c.connector_profile_arn,
        versions.c.version,
    ]
    if with_snapshot:
        columns.append(versions.c.snapshot)
    query = sa.select(*columns).join_from(profiles, versions, _same_profile())
    if as_of is None:
        query = query.where(
            profiles.c.deleted_at.is_(None), versions.c.version == profiles.c.version
        )
    else:
        # The version valid at that moment; a `deleted` one means the profile was gone then.
        query = query.where(
            versions.c.valid_from <= as_of,
            sa.or_(versions.c.valid_to.is_(None), versions.c.valid_to > as_of),
            versions.c.change_type != "deleted",
        )
    query = query.order_by(
        profiles.c.account_id,
        profiles.c.region,
        _text_order(profiles.c.connector_profile_name, dialect),
        _text_order(profiles.c.connector_profile_arn, dialect),
    )
    return _streamed(_in_accounts(query, accounts))


def export_query(dialect: str, *, include_deleted: bool) -> sa.Select[Any]:
    """Every column of `connector_profiles`, by ARN; deleted profiles only if asked."""
    query = sa.select(profiles).order_by(_text_order(profiles.c.connector_profile_arn, dialect))
    if not include_deleted:
        query = query.where(profiles.c.deleted_at.is_(None))
    return _streamed(query)


def _same_profile() -> sa.ColumnElement[bool]:
    return versions.c.connector_profile_arn == profiles.c.connector_profile_arn


def _in_accounts(query: sa.Select[Any], accounts: Sequence[str]) -> sa.Select[Any]:
    return query.where(profiles.c.account_id.in_(accounts)) if accounts else query


def _text_order(column: sa.ColumnElement[str], dialect: str) -> sa.ColumnElement[str]:
    # PostgreSQL sorts text by the database's locale, which mostly ignores punctuation; "C"
    # sorts by code point as SQLite does, so both backends list rows in the same order.
    return sa.collate(column, "C") if dialect == "postgresql" else column


def _streamed(query: sa.Select[Any]) -> sa.Select[Any]:
    return query.execution_options(yield_per=BATCH)


@asynccontextmanager
async def read_connection(database_url: str) -> AsyncIterator[AsyncConnection]:
    """A read-only connection to a database that holds this collector's schema.

    Raises `DatabaseError` if the database cannot be reached, has no schema, or has a schema
    of another revision; database errors while the caller reads become `DatabaseError` too.
    """
    _require_sqlite_file(database_url)
    engine = create_engine(database_url)
    try:
        conn = await _guard(database_url, engine.connect())
        try:
            await _guard(database_url, _prepare(conn, database_url))
            try:
                yield conn
            except SQLAlchemyError as exc:
                raise _database_error(database_url, exc) from exc
        finally:
            await conn.close()
    finally:
        await engine.dispose()


def _require_sqlite_file(database_url: str) -> None:
    # Connecting to a missing SQLite file would create it: a read must not leave one behind.
    url = async_url(database_url)
    path = url.database or ""
    if url.get_backend_name() != "sqlite" or path == ":memory:" or path.startswith("file:"):
        return
    if not Path(path).exists():
        raise DatabaseError(
            f"database {redact(database_url)} does not exist; run `collector db upgrade` first"
        )


async def _prepare(conn: AsyncConnection, database_url: str) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execution_options(postgresql_readonly=True)
    else:
        await conn.exec_driver_sql("PRAGMA query_only = ON")
    current = await conn.run_sync(_current_revision)
    if current is None:
        raise DatabaseError(
            f"database {redact(database_url)} has no collector schema; "
            "run `collector db upgrade` first"
        )
    head = head_revision()
    if current != head:
        raise DatabaseError(
            f"database {redact(database_url)} schema is at revision {current}, this collector "
            f"reads {head}: run `collector db upgrade` first (or upgrade the collector if the "
            "database is newer)"
        )


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _guard(database_url: str, operation: Awaitable[T]) -> T:
    try:
        return await operation
    except (SQLAlchemyError, OSError) as exc:
        raise _database_error(database_url, exc) from exc


def _database_error(database_url: str, exc: BaseException) -> DatabaseError:
    text = str(getattr(exc, "orig", None) or exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return DatabaseError(f"database {redact(database_url)}: {line}")
