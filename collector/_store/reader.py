"""Read-side queries: changes in a window, one profile's or flow's history, the inventory at
a moment, and which flows use which profiles.

Every query selects through the Table objects, so `UtcDateTime` and `JSON` decode values the
same way on SQLite and PostgreSQL, and compares times through bound, time-zone-aware
parameters. Nothing here writes: connections are read-only, and a database the collector has
not migrated is refused, never migrated. Rows come back as plain mappings of Python values.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .._errors import DatabaseError
from .dialects import Dialect, dialect_named
from .engine import create_engine
from .errors import display_url, translated
from .migrate import current_revision, head_revision
from .schema import (
    collection_runs,
    connector_profile_versions,
    connector_profiles,
    flow_connector_profiles,
    flow_versions,
    flows,
)

profiles = connector_profiles
versions = connector_profile_versions

# Rows fetched per round trip while streaming: memory stays bounded whatever the table size.
BATCH = 500

Row = Mapping[Any, Any]  # a result row by column name (RowMapping)

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
FLOW_INVENTORY_COLUMNS = (
    "account_id",
    "region",
    "flow_name",
    "flow_status",
    "trigger_type",
    "source_connector_type",
    "destination_connector_type",
    "flow_arn",
    "version",
)
FLOW_EXPORT_COLUMNS = tuple(column.name for column in flows.columns)
FLOW_CHANGE_COLUMNS = (
    "valid_from",
    "change_type",
    "account_id",
    "region",
    "flow_name",
    "source_connector_type",
    "destination_connector_type",
    "flow_arn",
    "version",
    "changed_fields",
    "run_id",
)
USAGE_COLUMNS = ("account_id", "region", "connector_profile_name", "connector_type", "flows")
DANGLING_COLUMNS = ("account_id", "region", "flow_name", "role", "connector_profile_name")
RUN_CHANGE_COLUMNS = (
    "change_type",
    "account_id",
    "region",
    "connector_profile_name",
    "changed_fields",
)


@dataclass(frozen=True, slots=True)
class Rows:
    """The column names of a result, and its rows streamed in batches."""

    columns: tuple[str, ...]
    rows: AsyncIterator[Row]

    def __aiter__(self) -> AsyncIterator[Row]:
        return self.rows


class Reader:
    """The read-side queries over one read-only connection."""

    def __init__(self, conn: AsyncConnection, engine: AsyncEngine) -> None:
        self._conn = conn
        self._engine = engine
        self._dialect: Dialect = dialect_named(conn.dialect.name)

    def changes(self, since: datetime, until: datetime | None, accounts: Sequence[str]) -> Rows:
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
                self._dialect.text_order(versions.c.connector_profile_arn),
                versions.c.version.desc(),
            )
        )
        if until is not None:
            query = query.where(versions.c.valid_from < until)
        return self._stream(CHANGE_COLUMNS, _in_accounts(query, accounts))

    def flow_changes(
        self, since: datetime, until: datetime | None, accounts: Sequence[str]
    ) -> Rows:
        """Flow versions with `since <= valid_from < until`, newest first."""
        f, v = flows.c, flow_versions.c
        query = (
            sa.select(*(v[n] if n in v else f[n] for n in FLOW_CHANGE_COLUMNS))
            .join_from(flow_versions, flows, v.flow_arn == f.flow_arn)
            .where(v.valid_from >= since)
            .order_by(v.valid_from.desc(), self._dialect.text_order(v.flow_arn), v.version.desc())
        )
        if until is not None:
            query = query.where(v.valid_from < until)
        if accounts:
            query = query.where(f.account_id.in_(accounts))
        return self._stream(FLOW_CHANGE_COLUMNS, query)

    async def history(self, arn: str, *, with_snapshot: bool) -> tuple[tuple[str, ...], list[Row]]:
        """Every version of one profile or flow, oldest first (few: read whole, not
        streamed)."""
        columns = HISTORY_COLUMNS + (("snapshot",) if with_snapshot else ())
        found: list[Row] = []
        for table, key in ((versions, "connector_profile_arn"), (flow_versions, "flow_arn")):
            query = (
                sa.select(*(table.c[name] for name in columns))
                .where(table.c[key] == arn)
                .order_by(table.c.version)
            )
            with translated(self._engine):
                found = list((await self._conn.execute(query)).mappings())
            if found:
                break
        return columns, found

    def inventory(
        self, as_of: datetime | None, accounts: Sequence[str], *, with_snapshot: bool
    ) -> Rows:
        """The profiles that existed at `as_of` (None: now), with the version valid then."""
        names = INVENTORY_COLUMNS + (("snapshot",) if with_snapshot else ())
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
            self._dialect.text_order(profiles.c.connector_profile_name),
            self._dialect.text_order(profiles.c.connector_profile_arn),
        )
        return self._stream(names, _in_accounts(query, accounts))

    def flow_inventory(
        self, as_of: datetime | None, accounts: Sequence[str], *, with_snapshot: bool
    ) -> Rows:
        """The flows that existed at `as_of` (None: now), with the version valid then."""
        f, v = flows.c, flow_versions.c
        names = FLOW_INVENTORY_COLUMNS + (("snapshot",) if with_snapshot else ())
        columns = [f[name] for name in FLOW_INVENTORY_COLUMNS if name != "version"]
        columns.append(v.version)
        if with_snapshot:
            columns.append(v.snapshot)
        query = sa.select(*columns).join_from(flows, flow_versions, v.flow_arn == f.flow_arn)
        if as_of is None:
            query = query.where(f.deleted_at.is_(None), v.version == f.version)
        else:
            query = query.where(
                v.valid_from <= as_of,
                sa.or_(v.valid_to.is_(None), v.valid_to > as_of),
                v.change_type != "deleted",
            )
        query = query.order_by(
            f.account_id,
            f.region,
            self._dialect.text_order(f.flow_name),
            self._dialect.text_order(f.flow_arn),
        )
        if accounts:
            query = query.where(f.account_id.in_(accounts))
        return self._stream(names, query)

    def export(self, *, include_deleted: bool) -> Rows:
        """Every column of `connector_profiles`, by ARN; deleted profiles only if asked."""
        query = sa.select(profiles).order_by(
            self._dialect.text_order(profiles.c.connector_profile_arn)
        )
        if not include_deleted:
            query = query.where(profiles.c.deleted_at.is_(None))
        return self._stream(EXPORT_COLUMNS, query)

    def export_flows(self, *, include_deleted: bool) -> Rows:
        """Every column of `flows`, by ARN; deleted flows only if asked."""
        query = sa.select(flows).order_by(self._dialect.text_order(flows.c.flow_arn))
        if not include_deleted:
            query = query.where(flows.c.deleted_at.is_(None))
        return self._stream(FLOW_EXPORT_COLUMNS, query)

    def profile_usage(self) -> Rows:
        """Each current profile with the number of current flows that use it (0: unused),
        most used first."""
        p, link, f = profiles.c, flow_connector_profiles.c, flows.c
        users = (
            sa.select(sa.func.count(sa.distinct(link.flow_arn)))
            .join_from(flow_connector_profiles, flows, f.flow_arn == link.flow_arn)
            .where(link.connector_profile_arn == p.connector_profile_arn, f.deleted_at.is_(None))
            .scalar_subquery()
            .label("flows")
        )
        query = (
            sa.select(p.account_id, p.region, p.connector_profile_name, p.connector_type, users)
            .where(p.deleted_at.is_(None))
            .order_by(
                users.desc(),
                p.account_id,
                p.region,
                self._dialect.text_order(p.connector_profile_name),
            )
        )
        return self._stream(USAGE_COLUMNS, query)

    def dangling_links(self) -> Rows:
        """Current flows naming a connector profile that does not exist (or was deleted)."""
        link, f = flow_connector_profiles.c, flows.c
        query = (
            sa.select(f.account_id, f.region, f.flow_name, link.role, link.connector_profile_name)
            .join_from(flow_connector_profiles, flows, f.flow_arn == link.flow_arn)
            .where(f.deleted_at.is_(None), link.connector_profile_arn.is_(None))
            .order_by(
                f.account_id,
                f.region,
                self._dialect.text_order(f.flow_name),
                link.role,
                link.position,
            )
        )
        return self._stream(DANGLING_COLUMNS, query)

    def profile_counts(self, by: str) -> Rows:
        """Current profiles counted by `account_id` (in account order) or `connector_type`
        (largest first)."""
        column = profiles.c[by]
        count = sa.func.count().label("profiles")
        query = sa.select(column, count).where(profiles.c.deleted_at.is_(None)).group_by(column)
        query = (
            query.order_by(column) if by == "account_id" else query.order_by(count.desc(), column)
        )
        return self._stream((by, "profiles"), query)

    def run_changes(self, run_id: str) -> Rows:
        """The versions one run wrote, by change type and profile name."""
        query = (
            sa.select(
                versions.c.change_type,
                profiles.c.account_id,
                profiles.c.region,
                profiles.c.connector_profile_name,
                versions.c.changed_fields,
            )
            .join_from(versions, profiles, _same_profile())
            .where(versions.c.run_id == run_id)
            .order_by(
                versions.c.change_type,
                self._dialect.text_order(profiles.c.connector_profile_name),
            )
        )
        return self._stream(RUN_CHANGE_COLUMNS, query)

    def _stream(self, columns: tuple[str, ...], query: sa.Select[Any]) -> Rows:
        return Rows(columns, self._rows(query.execution_options(yield_per=BATCH)))

    async def _rows(self, query: sa.Select[Any]) -> AsyncIterator[Row]:
        with translated(self._engine):
            async with self._conn.stream(query) as result:
                async for row in result.mappings():
                    yield row


def _same_profile() -> sa.ColumnElement[bool]:
    return versions.c.connector_profile_arn == profiles.c.connector_profile_arn


def _in_accounts(query: sa.Select[Any], accounts: Sequence[str]) -> sa.Select[Any]:
    return query.where(profiles.c.account_id.in_(accounts)) if accounts else query


@asynccontextmanager
async def open_reader(database_url: str, schema: str | None = None) -> AsyncIterator[Reader]:
    """A `Reader` over a read-only connection to a database holding this collector's schema
    (in `schema`, if given)."""
    async with read_connection(database_url, schema) as conn:
        yield Reader(conn, conn.engine)


@asynccontextmanager
async def read_connection(
    database_url: str, schema: str | None = None
) -> AsyncIterator[AsyncConnection]:
    """A read-only connection to a database that holds this collector's schema.

    Raises `DatabaseError` if the database cannot be reached, has no schema, or has a schema
    of another revision; database errors while the caller reads become `DatabaseError` too.
    """
    engine = create_engine(database_url, schema)
    try:
        if dialect_named(engine.dialect.name).missing(engine):
            # Connecting to a missing SQLite file would create it: a read must leave none.
            raise DatabaseError(
                f"database {display_url(engine)} does not exist; run `collector db upgrade` first"
            )
        with translated(engine):
            conn = await engine.connect()
        try:
            with translated(engine):
                await _prepare(conn, engine)
                yield conn
        finally:
            with translated(engine):
                await conn.close()
    finally:
        await engine.dispose()


async def _prepare(conn: AsyncConnection, engine: AsyncEngine) -> None:
    await dialect_named(conn.dialect.name).make_read_only(conn)
    current = await conn.run_sync(current_revision)
    if current is None:
        raise DatabaseError(
            f"database {display_url(engine)} has no collector schema; "
            "run `collector db upgrade` first"
        )
    head = head_revision()
    if current != head:
        raise DatabaseError(
            f"database {display_url(engine)} schema is at revision {current}, this collector "
            f"reads {head}: run `collector db upgrade` first (or upgrade the collector if the "
            "database is newer)"
        )


def sqlite_runs_all_labelled(path: str, label: str) -> bool:
    """Whether the file at `path` is a SQLite inventory whose every run carries `label`.

    False for anything else: a missing or unreadable file, a file that is not SQLite, a
    database without `collection_runs`, or one with a run labelled otherwise (or not at all).
    Read through sqlite3 in read-only mode rather than an engine: the engine's connection
    setup would switch a foreign database to WAL mode, and this must change nothing.
    """
    uri = f"file:{urllib.parse.quote(str(Path(path).resolve()))}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                (collection_runs.name,),
            ).fetchone()
            if tables[0] != 1:
                return False
            others = conn.execute(
                "SELECT count(*) FROM collection_runs WHERE run_label IS NULL OR run_label <> ?",
                (label,),
            ).fetchone()
            return bool(others[0] == 0)
    except sqlite3.Error:
        return False
