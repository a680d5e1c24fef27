"""Read-side queries, for every resource alike: changes in a window, one record's history,
the inventory at a moment, an export; and, for every link, what names what.

Every query selects through the Table objects, so `UtcDateTime` and `JSON` decode values the
same way on SQLite and PostgreSQL, and compares times through bound, time-zone-aware
parameters. Nothing here writes: connections are read-only, and a database the collector has
not migrated is refused, never migrated. Rows come back as plain mappings of Python values.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .._errors import DatabaseError
from .._model.resource import Link, Resource
from .._model.resources import PROFILES, RESOURCES
from .._model.selection import Selection
from .adhoc import user_query
from .dialects import Dialect, dialect_named
from .engine import create_engine
from .errors import display_url, translated
from .migrate import current_revision, head_revision
from .runs import SCOPE_COLUMNS, failed_scopes, find_run, recent_runs, run_columns
from .schema import collection_runs, metadata
from .tables import ResourceTables, tables_of

# Rows fetched per round trip while streaming: memory stays bounded whatever the table size.
BATCH = 500

Row = Mapping[Any, Any]  # a result row by column name (RowMapping)

HISTORY_COLUMNS = ("version", "change_type", "valid_from", "valid_to", "changed_fields", "run_id")
VERSION_COLUMNS = (*HISTORY_COLUMNS, "snapshot")
EVERYTHING = Selection()
# A record's name, selected beside the columns asked for when a name pattern is matched here.
_NAME = "_collector_name"
Keep = Callable[[Row], bool]


def inventory_columns(resource: Resource) -> tuple[str, ...]:
    """What `show` prints of `resource`: its scope, what names it, its ARN and version."""
    return ("account_id", "region", *resource.show_columns, resource.key, "version")


def change_columns(resource: Resource) -> tuple[str, ...]:
    """What `changes` prints of a version of `resource`."""
    return (
        "valid_from",
        "change_type",
        "account_id",
        "region",
        *resource.change_columns,
        resource.key,
        "version",
        "changed_fields",
        "run_id",
    )


def table_columns(resource: Resource) -> tuple[str, ...]:
    """Every column of `resource`'s table (`export`)."""
    return tuple(column.name for column in tables_of(resource).table.columns)


def record_columns(resource: Resource) -> tuple[str, ...]:
    """Every column `show` and `changes` can print of `resource` (`--columns`): its table's,
    then those of the version shown."""
    table = table_columns(resource)
    return (*table, *(name for name in VERSION_COLUMNS if name not in table))


def run_change_columns(resource: Resource) -> tuple[str, ...]:
    return ("change_type", "account_id", "region", resource.name_column, "changed_fields")


@dataclass(frozen=True, slots=True)
class Rows:
    """The column names of a result, and its rows streamed in batches."""

    columns: tuple[str, ...]
    rows: AsyncIterator[Row]

    def __aiter__(self) -> AsyncIterator[Row]:
        return self.rows

    async def aclose(self) -> None:
        """Stop streaming: the cursor under the rows is closed now, not when collected."""
        close = getattr(self.rows, "aclose", None)
        if close is not None:
            await close()


class Reader:
    """The read-side queries over one read-only connection."""

    def __init__(self, conn: AsyncConnection, engine: AsyncEngine) -> None:
        self._conn = conn
        self._engine = engine
        self._dialect: Dialect = dialect_named(conn.dialect.name)

    def changes(
        self,
        resource: Resource,
        since: datetime | None,
        until: datetime | None,
        where: Selection = EVERYTHING,
        columns: Sequence[str] | None = None,
    ) -> Rows:
        """Versions of `resource` with `since <= valid_from < until` (either end open when
        None) that `where` selects, newest first."""
        tables = tables_of(resource)
        v = tables.versions.c
        names = tuple(columns or change_columns(resource))
        query = (
            sa.select(*(_column(tables, name) for name in names))
            .join_from(tables.versions, tables.table, _same_record(tables))
            .order_by(
                v.valid_from.desc(),
                self._dialect.text_order(v[resource.key]),
                v.version.desc(),
            )
        )
        if since is not None:
            query = query.where(v.valid_from >= since)
        if until is not None:
            query = query.where(v.valid_from < until)
        if where.run_id is not None:
            query = query.where(v.run_id == where.run_id)
        if where.change_types:
            query = query.where(v.change_type.in_(where.change_types))
        query, keep = _selected(query, tables, where)
        return self._stream(names, query, keep)

    async def history(self, arn: str, *, with_snapshot: bool) -> tuple[tuple[str, ...], list[Row]]:
        """Every version of the record with this ARN, whatever its resource, oldest first
        (few: read whole, not streamed)."""
        columns = HISTORY_COLUMNS + (("snapshot",) if with_snapshot else ())
        _, found = await self.versions_of(arn)
        return columns, found

    async def versions_of(self, arn: str) -> tuple[Resource | None, list[Row]]:
        """The resource of the record with this ARN and every version of it, oldest first,
        with their snapshots; (None, []) for an ARN never seen."""
        for resource in RESOURCES:
            versions = tables_of(resource).versions
            query = (
                sa.select(*(versions.c[name] for name in VERSION_COLUMNS))
                .where(versions.c[resource.key] == arn)
                .order_by(versions.c.version)
            )
            with translated(self._engine):
                found: list[Row] = list((await self._conn.execute(query)).mappings())
            if found:
                return resource, found
        return None, []

    async def records_named(
        self, resources: Sequence[Resource], where: Selection
    ) -> list[dict[str, Any]]:
        """The records (live or deleted) of `resources` that `where` selects by name, account
        and region: `resource`, `arn`, `account_id`, `region`, `name`, `deleted_at`."""
        found: list[dict[str, Any]] = []
        for resource in resources:
            tables = tables_of(resource)
            t = tables.table.c
            query = sa.select(
                t[resource.key].label("arn"),
                t.account_id,
                t.region,
                t[resource.name_column].label("name"),
                t.deleted_at,
            ).order_by(t.account_id, t.region, self._dialect.text_order(t[resource.key]))
            query, keep = _selected(query, tables, where)
            with translated(self._engine):
                rows = (await self._conn.execute(query)).mappings()
                found += [
                    {"resource": resource, **row} for row in rows if keep is None or keep(row)
                ]
        return found

    def inventory(
        self,
        resource: Resource,
        as_of: datetime | None,
        where: Selection = EVERYTHING,
        *,
        with_snapshot: bool,
        columns: Sequence[str] | None = None,
    ) -> Rows:
        """The records of `resource` that existed at `as_of` (None: now) and that `where`
        selects, with the version valid then."""
        tables = tables_of(resource)
        t, v = tables.table.c, tables.versions.c
        names = tuple(columns or inventory_columns(resource)) + (
            ("snapshot",) if with_snapshot and "snapshot" not in (columns or ()) else ()
        )
        query = sa.select(*(_column(tables, name) for name in names)).join_from(
            tables.table, tables.versions, _same_record(tables)
        )
        if as_of is None:
            query = query.where(t.deleted_at.is_(None), v.version == t.version)
        else:
            # The version valid at that moment; a `deleted` one means it was gone then.
            query = query.where(
                v.valid_from <= as_of,
                sa.or_(v.valid_to.is_(None), v.valid_to > as_of),
                v.change_type != "deleted",
            )
        query = query.order_by(
            t.account_id,
            t.region,
            self._dialect.text_order(t[resource.name_column]),
            self._dialect.text_order(t[resource.key]),
        )
        query, keep = _selected(query, tables, where)
        return self._stream(names, query, keep)

    def export(
        self,
        resource: Resource,
        *,
        include_deleted: bool,
        columns: Sequence[str] | None = None,
    ) -> Rows:
        """Every column (or `columns`) of `resource`'s table, by ARN; deleted records only
        if asked."""
        tables = tables_of(resource)
        names = tuple(columns or (column.name for column in tables.table.columns))
        query = sa.select(*(tables.table.c[name] for name in names)).order_by(
            self._dialect.text_order(tables.arn)
        )
        if not include_deleted:
            query = query.where(tables.table.c.deleted_at.is_(None))
        return self._stream(names, query)

    def link_usage(self, link: Link) -> Rows:
        """Each live target of `link` with the number of live records naming it (0:
        unused), most used first."""
        table, owner, target = _link_tables(link)
        row, o, t = table.c, owner.c, target.c
        users = (
            sa.select(sa.func.count(sa.distinct(row[link.owner.key])))
            .join_from(table, owner, o[link.owner.key] == row[link.owner.key])
            .where(row[link.arn] == t[link.target.key], o.deleted_at.is_(None))
            .scalar_subquery()
            .label(link.owner.name)
        )
        name = t[link.target.name_column]
        query = (
            sa.select(t.account_id, t.region, name, users)
            .where(t.deleted_at.is_(None))
            .order_by(users.desc(), t.account_id, t.region, self._dialect.text_order(name))
        )
        return self._stream(("account_id", "region", name.name, link.owner.name), query)

    def unresolved_links(self, link: Link) -> Rows:
        """Live records naming, through `link`, a target that does not exist (or was
        deleted)."""
        table, owner, _ = _link_tables(link)
        row, o = table.c, owner.c
        owner_name = o[link.owner.name_column]
        query = (
            sa.select(o.account_id, o.region, owner_name, row[link.name])
            .join_from(table, owner, o[link.owner.key] == row[link.owner.key])
            .where(o.deleted_at.is_(None), row[link.name].is_not(None), row[link.arn].is_(None))
            .order_by(
                o.account_id,
                o.region,
                self._dialect.text_order(owner_name),
                self._dialect.text_order(row[link.name]),
            )
        )
        columns = ("account_id", "region", link.owner.name_column, link.name)
        return self._stream(columns, query)

    async def runs(
        self, *, limit: int, since: datetime | None, statuses: Sequence[str] = ()
    ) -> Rows:
        """The latest runs, newest first, with what each listed, wrote and failed."""
        with translated(self._engine):
            found = await recent_runs(
                self._conn, RESOURCES, limit=limit, since=since, statuses=statuses
            )
        return Rows(run_columns(RESOURCES), _listed(found))

    async def find_run(self, ref: str) -> str | None:
        """The id of the run `ref` names (`last`, an id, or its start); None if none."""
        with translated(self._engine):
            return await find_run(self._conn, ref)

    def run_scopes(self, run_id: str) -> Rows:
        """The scopes of one run that failed or were skipped, with their errors."""
        return self._stream(SCOPE_COLUMNS, failed_scopes(run_id))

    async def query(self, sql: str) -> Rows:
        """The result of a statement of the user's own, which the database keeps from
        writing; `ConfigError` if it refuses the statement."""
        with translated(self._engine):
            columns, rows = await user_query(self._conn, sql)
        return Rows(columns, rows)

    def profile_counts(self, by: str) -> Rows:
        """Current profiles counted by `account_id` (in account order) or `connector_type`
        (largest first)."""
        profiles = tables_of(PROFILES).table
        column = profiles.c[by]
        count = sa.func.count().label("profiles")
        query = sa.select(column, count).where(profiles.c.deleted_at.is_(None)).group_by(column)
        query = (
            query.order_by(column) if by == "account_id" else query.order_by(count.desc(), column)
        )
        return self._stream((by, "profiles"), query)

    def run_changes(self, resource: Resource, run_id: str) -> Rows:
        """The versions of `resource` one run wrote, by change type and name."""
        tables = tables_of(resource)
        v, t = tables.versions.c, tables.table.c
        columns = run_change_columns(resource)
        query = (
            sa.select(*(_column(tables, name) for name in columns))
            .join_from(tables.versions, tables.table, _same_record(tables))
            .where(v.run_id == run_id)
            .order_by(v.change_type, self._dialect.text_order(t[resource.name_column]))
        )
        return self._stream(columns, query)

    def _stream(
        self, columns: tuple[str, ...], query: sa.Select[Any], keep: Keep | None = None
    ) -> Rows:
        return Rows(columns, self._rows(query.execution_options(yield_per=BATCH), keep))

    async def _rows(self, query: sa.Select[Any], keep: Keep | None = None) -> AsyncIterator[Row]:
        with translated(self._engine):
            async with self._conn.stream(query) as result:
                async for row in result.mappings():
                    if keep is None or keep(row):
                        yield row


async def _listed(rows: list[dict[str, Any]]) -> AsyncIterator[Row]:
    for row in rows:
        yield row


def _link_tables(link: Link) -> tuple[sa.Table, sa.FromClause, sa.Table]:
    """The table holding a link, its owner's table (aliased: it may be the same one), and
    the target's table."""
    table = metadata.tables[link.table]
    return table, tables_of(link.owner).table.alias("owner"), tables_of(link.target).table


def _column(tables: ResourceTables, name: str) -> sa.ColumnElement[Any]:
    """A column by name: the version's own (its number, dates, snapshot), else the row's."""
    versions = tables.versions.c
    return versions[name] if name in versions else tables.table.c[name]


def _same_record(tables: ResourceTables) -> sa.ColumnElement[bool]:
    key = tables.resource.key
    return tables.versions.c[key] == tables.table.c[key]


def _selected(
    query: sa.Select[Any], tables: ResourceTables, where: Selection
) -> tuple[sa.Select[Any], Keep | None]:
    """`query` narrowed to what `where` selects of the record's own columns, and a test of
    each row for what SQL cannot say alike on every database (a name pattern)."""
    t = tables.table.c
    if where.accounts:
        query = query.where(t.account_id.in_(where.accounts))
    if where.regions:
        query = query.where(t.region.in_(where.regions))
    if where.connector_types:
        query = query.where(
            sa.or_(*(t[c].in_(where.connector_types) for c in tables.resource.type_columns))
        )
    if where.name is None:
        return query, None
    name = t[tables.resource.name_column]
    if not where.name_is_pattern:
        return query.where(name == where.name), None
    # SQLite's LIKE ignores case and PostgreSQL's does not: LIKE narrows by the literal
    # prefix on both, and the pattern itself is matched here, case-sensitively.
    prefix = where.name_prefix
    if prefix:
        query = query.where(name.like(_like_literal(prefix) + "%", escape="\\"))
    return query.add_columns(name.label(_NAME)), lambda row: where.name_matches(row[_NAME])


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
                f"database {display_url(engine)} does not exist: choose the inventory to read "
                "with --database-url (or COLLECTOR_DATABASE_URL), or run `collector db upgrade` "
                "first to start an empty one"
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
