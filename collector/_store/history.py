"""Writing one resource's listings of a batch of scopes: rows, versions and child rows.

The rules are the model's (`_model.history.plan_scope`); this module turns a plan into a
fixed handful of statements per resource and batch, whatever the batch's size: at fleet
scale most scopes are empty or unchanged, and per-scope statements would cost more than the
listing itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .._model.history import ScopePlan, StoredRecord, dedupe, plan_scope
from .._model.resource import Record
from .._model.scopes import Listing, Scope, ScopeChanges, ScopeOutcome
from .chunks import chunks
from .dialects import dialect_named
from .scopes_in import in_scopes
from .tables import ResourceTables

Listed = tuple[ScopeOutcome, Listing]
"""One scope's outcome, and its listing of the resource being written."""


async def write_resource(
    conn: AsyncConnection, tables: ResourceTables, run_id: str, listed: Sequence[Listed]
) -> list[ScopeChanges]:
    """Write one resource's listings of a batch of scopes; return what each changed."""
    scopes = [
        _ScopeListing(outcome, listing.complete, dedupe(listing.records))
        for outcome, listing in listed
    ]
    stored = await _stored_records(conn, tables, scopes)
    for scope in scopes:
        scope.stored = stored.get(scope.outcome.scope, {})
        scope.plan = plan_scope(scope.stored, scope.records, scope.complete)
    previous = await _current_snapshots(
        conn, tables, [arn for scope in scopes for arn in scope.previous_needed()]
    )
    writes = _Writes(tables, run_id, previous)
    for scope in scopes:
        writes.add(scope)
    await writes.execute(conn)
    return [scope.changes() for scope in scopes]


@dataclass(slots=True)
class _ScopeListing:
    """One scope's listing of the resource, what the store held of it, and the plan."""

    outcome: ScopeOutcome
    complete: bool
    records: list[Record]
    stored: dict[str, StoredRecord] = field(default_factory=dict)
    plan: ScopePlan[Record] = field(default_factory=ScopePlan)

    @property
    def at(self) -> datetime:
        return self.outcome.finished_at

    def previous_needed(self) -> list[str]:
        """The ARNs whose current snapshot the writes compare with, or keep."""
        plan = self.plan
        return [r.arn for r in (*plan.updated, *plan.restored)] + plan.deleted

    def changes(self) -> ScopeChanges:
        plan = self.plan
        return ScopeChanges(
            created=len(plan.created),
            updated=len(plan.updated),
            deleted=len(plan.deleted),
            restored=len(plan.restored),
            unchanged=len(plan.unchanged),
        )


@dataclass(slots=True)
class _Writes:
    """The rows a batch of scopes writes for one resource, gathered so each statement runs
    once per batch."""

    tables: ResourceTables
    run_id: str
    previous: dict[str, Any]
    """The current snapshot of each record updated, restored or deleted."""
    rows: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    closed: list[dict[str, Any]] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)
    seen_scopes: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    described: list[dict[str, Any]] = field(default_factory=list)
    """Records described again and found unchanged: only when they were described moves."""
    cleared: list[str] = field(default_factory=list)
    cleared_on_delete: list[str] = field(default_factory=list)

    def add(self, scope: _ScopeListing) -> None:
        plan = scope.plan
        for change_type, changed in (
            ("created", plan.created),
            ("updated", plan.updated),
            ("restored", plan.restored),
        ):
            for record in changed:
                self._changed(scope, change_type, record)
        for arn in plan.deleted:
            self.delete(scope.stored[arn], scope.at)
        self._sighted(scope)

    def _changed(self, scope: _ScopeListing, change_type: str, record: Record) -> None:
        before = scope.stored.get(record.arn)
        version = 1 if before is None else before.version + 1
        old = self.previous.get(record.arn)
        snapshot = record.snapshot
        # Only a record described in this run is created, updated or restored.
        assert snapshot is not None, record.arn
        fields = [] if old is None else self.tables.resource.changed_fields(old, snapshot)
        self.versions.append(
            self._version(record.arn, version, change_type, scope.at)
            | {"snapshot": snapshot, "changed_fields": fields, "content_hash": record.content_hash}
        )
        self.rows.append(self._row(record, version, scope.at))
        for table, rows in record.children().items():
            self.children.setdefault(table, []).extend(rows)
        self.cleared.append(record.arn)
        if before is not None:
            self.closed.append({"arn": record.arn, "t": scope.at})

    def delete(self, before: StoredRecord, at: datetime, reason: str | None = None) -> None:
        """A `deleted` version of a stored record; `reason` when no listing said so."""
        arn = before.arn
        # A deletion keeps the last state it saw.
        snapshot = self.previous.get(arn, {})
        self.versions.append(
            self._version(arn, before.version + 1, "deleted", at)
            | {
                "snapshot": snapshot,
                "changed_fields": [],
                "content_hash": before.content_hash,
                "change_reason": reason,
            }
        )
        self.closed.append({"arn": arn, "t": at})
        self.deleted.append({"arn": arn, "t": at})
        self.cleared_on_delete.append(arn)

    def _sighted(self, scope: _ScopeListing) -> None:
        unchanged = scope.plan.unchanged
        if self.tables.resource.api.describe is not None:
            by_arn = {record.arn: record for record in scope.records}
            self.described.extend(
                {"arn": arn, "t": scope.at} for arn in unchanged if by_arn[arn].snapshot is not None
            )
        if scope.complete and not self.tables.resource.seen_columns:
            # A complete listing saw every live record of its scope: one statement for the
            # scope rather than one per unchanged record (most of a rerun's writes).
            if unchanged:
                where = scope.outcome.scope
                self.seen_scopes.append({"a": where.account_id, "r": where.region, "t": scope.at})
            return
        by_arn = {record.arn: record for record in scope.records}
        for arn in unchanged:
            values = {f"v_{name}": value for name, value in by_arn[arn].seen().items()}
            self.seen.append({"arn": arn, "t": scope.at, **values})

    def _version(self, arn: str, version: int, change_type: str, at: datetime) -> dict[str, Any]:
        """A new current version's row, but for its snapshot, digest and changed fields."""
        return {
            self.tables.resource.key: arn,
            "version": version,
            "change_type": change_type,
            "valid_from": at,
            "valid_to": None,
            "run_id": self.run_id,
            "change_reason": None,
        }

    def _row(self, record: Record, version: int, at: datetime) -> dict[str, Any]:
        return {
            self.tables.resource.key: record.arn,
            "account_id": record.account_id,
            "region": record.region,
            **record.row(),
            "content_hash": record.content_hash,
            "version": version,
            "first_seen_at": at,
            "last_seen_at": at,
            "deleted_at": None,
            **({"described_at": at} if self.tables.resource.api.describe is not None else {}),
        }

    async def execute(self, conn: AsyncConnection) -> None:
        await self._close_versions(conn)
        if self.rows:
            await _upsert(conn, self.tables, self.rows)
        await self._mark_seen_and_deleted(conn)
        await self._replace_children(conn)
        if self.versions:
            await conn.execute(sa.insert(self.tables.versions), self.versions)

    async def _close_versions(self, conn: AsyncConnection) -> None:
        if not self.closed:
            return
        versions = self.tables.versions
        await conn.execute(
            sa.update(versions)
            .where(
                versions.c[self.tables.resource.key] == sa.bindparam("arn"),
                versions.c.valid_to.is_(None),
            )
            .values(valid_to=sa.bindparam("t")),
            self.closed,
        )

    async def _mark_seen_and_deleted(self, conn: AsyncConnection) -> None:
        table, arn = self.tables.table, self.tables.arn
        by_arn: sa.BindParameter[str] = sa.bindparam("arn")
        if self.seen:
            seen_columns = self.tables.resource.seen_columns
            await conn.execute(
                sa.update(table)
                .where(arn == by_arn)
                .values(
                    last_seen_at=sa.bindparam("t"),
                    **{name: sa.bindparam(f"v_{name}") for name in seen_columns},
                ),
                self.seen,
            )
        if self.described:
            await conn.execute(
                sa.update(table).where(arn == by_arn).values(described_at=sa.bindparam("t")),
                self.described,
            )
        if self.deleted:
            await conn.execute(
                sa.update(table)
                .where(arn == by_arn)
                .values(deleted_at=sa.bindparam("t"), version=table.c.version + 1),
                self.deleted,
            )
        if self.seen_scopes:
            # After the deletions, which this must not touch (their deleted_at is set now).
            await conn.execute(
                sa.update(table)
                .where(
                    table.c.account_id == sa.bindparam("a"),
                    table.c.region == sa.bindparam("r"),
                    table.c.deleted_at.is_(None),
                )
                .values(last_seen_at=sa.bindparam("t")),
                self.seen_scopes,
            )

    async def _replace_children(self, conn: AsyncConnection) -> None:
        for child, table in self.tables.children:
            key = table.c[self.tables.resource.key]
            gone = self.cleared + (self.cleared_on_delete if child.cleared_on_delete else [])
            for chunk in chunks(gone):
                await conn.execute(sa.delete(table).where(key.in_(chunk)))
            rows = self.children.get(child.table)
            if rows:
                await conn.execute(sa.insert(table), rows)


async def _stored_records(
    conn: AsyncConnection, tables: ResourceTables, scopes: Sequence[_ScopeListing]
) -> dict[Scope, dict[str, StoredRecord]]:
    """What the store holds for each scope of a batch, in as few queries as possible.

    A complete listing may delete, so it needs every record of its scope; an incomplete one
    only the records it saw.
    """
    t = tables.table.c
    columns = (tables.arn, t.account_id, t.region, t.content_hash, t.version, t.deleted_at)
    whole = sorted(
        {(s.outcome.scope.account_id, s.outcome.scope.region) for s in scopes if s.complete}
    )
    seen = [record.arn for s in scopes if not s.complete for record in s.records]
    rows: list[Any] = []
    for chunk in chunks(whole, 200):
        query = sa.select(*columns).where(in_scopes(t.account_id, t.region, chunk))
        rows.extend(await conn.execute(query))
    for arns in chunks(seen):
        rows.extend(await conn.execute(sa.select(*columns).where(tables.arn.in_(arns))))
    found: dict[Scope, dict[str, StoredRecord]] = {}
    for arn, account_id, region, digest, version, deleted_at in rows:
        found.setdefault(Scope(account_id, region), {})[arn] = StoredRecord(
            arn, digest, version, deleted_at is not None
        )
    return found


async def _current_snapshots(
    conn: AsyncConnection, tables: ResourceTables, arns: Iterable[str]
) -> dict[str, Any]:
    versions = tables.versions
    key = versions.c[tables.resource.key]
    snapshots: dict[str, Any] = {}
    for chunk in chunks(arns):
        query = sa.select(key, versions.c.snapshot).where(
            key.in_(chunk), versions.c.valid_to.is_(None)
        )
        snapshots.update({arn: snapshot for arn, snapshot in await conn.execute(query)})
    return snapshots


async def _upsert(
    conn: AsyncConnection, tables: ResourceTables, rows: list[dict[str, Any]]
) -> None:
    # SQLAlchemy has no backend-neutral upsert; both dialects' inserts share the arguments used.
    stmt = dialect_named(conn.dialect.name).insert(tables.table)
    kept = {tables.resource.key, "first_seen_at"}
    stmt = stmt.on_conflict_do_update(
        index_elements=[tables.arn],
        set_={c.name: stmt.excluded[c.name] for c in tables.table.columns if c.name not in kept},
    )
    await conn.execute(stmt, rows)


async def retire(
    conn: AsyncConnection,
    tables: ResourceTables,
    run_id: str,
    reasons: Mapping[str, str],
    at: datetime,
) -> int:
    """Mark deleted every live record of the accounts in `reasons` (account id -> why: the
    account closed or left the organization), each with a `deleted` version giving the
    reason; return how many."""
    t = tables.table.c
    stored: list[StoredRecord] = []
    accounts_of: dict[str, str] = {}
    for chunk in chunks(sorted(reasons)):
        query = sa.select(tables.arn, t.account_id, t.content_hash, t.version).where(
            t.account_id.in_(chunk), t.deleted_at.is_(None)
        )
        for arn, account_id, digest, version in await conn.execute(query):
            stored.append(StoredRecord(arn, digest, version, False))
            accounts_of[arn] = account_id
    writes = _Writes(
        tables, run_id, await _current_snapshots(conn, tables, [r.arn for r in stored])
    )
    for record in stored:
        writes.delete(record, at, reasons[accounts_of[record.arn]])
    await writes.execute(conn)
    return len(stored)
