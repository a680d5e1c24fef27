"""Writes to the inventory: runs, accounts and, per scope, profiles with their history.

Each batch of scopes is written in one transaction, so after a crash every scope is either
fully applied or not at all. Upserts use the dialect's own `INSERT ... ON CONFLICT`, with
only the arguments PostgreSQL and SQLite share.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .._model.history import ScopePlan, StoredProfile, dedupe, plan_scope
from .._model.profiles import ProfileRecord, changed_paths, flatten_properties
from .._model.run import RunStatus
from .._model.scopes import Scope, ScopeChanges, ScopeOutcome, ScopeStatus
from .dialects import dialect_named
from .errors import translated
from .schema import (
    accounts,
    collection_runs,
    collection_scopes,
    connector_profile_properties,
    connector_profile_versions,
    connector_profiles,
)

T = TypeVar("T")

# Bound parameters per statement stay well under SQLite's limit (32766) and asyncpg's (32767).
_CHUNK = 500

profiles = connector_profiles
versions = connector_profile_versions
properties = connector_profile_properties


class Store:
    """The collector's writes, over one async engine.

    Every method raises `DatabaseError` if the database fails, and `write_scopes` raises
    `RefusedDataError` if the database refuses the values of the batch.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def begin_run(
        self,
        run_id: str,
        started_at: datetime,
        *,
        filtered: bool,
        run_label: str | None = None,
        shard: str | None = None,
    ) -> None:
        with translated(self._engine):
            await self._begin_run(run_id, started_at, filtered, run_label, shard)

    async def _begin_run(
        self,
        run_id: str,
        started_at: datetime,
        filtered: bool,
        run_label: str | None,
        shard: str | None,
    ) -> None:
        runs = collection_runs.c
        async with self._engine.begin() as conn:
            # Whoever holds the run lock is the only live run (of this shard): any other run
            # still marked running ended without finishing (killed, or the machine died).
            await conn.execute(
                sa.update(collection_runs)
                .where(
                    runs.status == RunStatus.RUNNING,
                    runs.shard.is_(None) if shard is None else runs.shard == shard,
                )
                .values(
                    status=RunStatus.INTERRUPTED,
                    error_message="the run ended without finishing",
                )
            )
            await conn.execute(
                sa.insert(collection_runs).values(
                    run_id=run_id,
                    started_at=started_at,
                    status=RunStatus.RUNNING,
                    filtered=filtered,
                    run_label=run_label,
                    shard=shard,
                )
            )

    async def last_success(self, shard: str | None) -> datetime | None:
        """When the latest run (of this shard) that collected every scope finished."""
        runs = collection_runs.c
        query = sa.select(sa.func.max(runs.finished_at)).where(
            runs.status == RunStatus.SUCCEEDED, runs.filtered.is_(False)
        )
        query = query.where(runs.shard.is_(None) if shard is None else runs.shard == shard)
        with translated(self._engine):
            async with self._engine.connect() as conn:
                value = (await conn.execute(query)).scalar()
        return value if isinstance(value, datetime) else None

    async def paged_scopes(self, shard: str | None) -> dict[tuple[str, str], int]:
        """(account, region) -> pages, for the scopes that took more than one page in the
        latest finished run (of this shard): a hint for listing the longest scopes first."""
        runs, scopes = collection_runs.c, collection_scopes.c
        latest = (
            sa.select(runs.run_id)
            .where(runs.status != RunStatus.RUNNING)
            .where(runs.shard.is_(None) if shard is None else runs.shard == shard)
            .order_by(runs.started_at.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = sa.select(scopes.account_id, scopes.region, scopes.pages).where(
            scopes.run_id == latest, scopes.pages > 1
        )
        with translated(self._engine):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        return {(account, region): int(pages) for account, region, pages in rows}

    async def finish_run(self, run_id: str, **values: Any) -> None:
        with translated(self._engine):
            async with self._engine.begin() as conn:
                await conn.execute(
                    sa.update(collection_runs)
                    .where(collection_runs.c.run_id == run_id)
                    .values(**values)
                )

    async def record_accounts(self, rows: Sequence[dict[str, Any]]) -> None:
        """Upsert `accounts` rows (account_id, name, email, state, source, last_seen_at)."""
        if not rows:
            return
        with translated(self._engine):
            await self._record_accounts(rows)

    async def _record_accounts(self, rows: Sequence[dict[str, Any]]) -> None:
        async with self._engine.begin() as conn:
            stmt = _insert(conn, accounts)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[accounts.c.account_id],
                    set_={
                        "name": sa.func.coalesce(stmt.excluded.name, accounts.c.name),
                        "email": sa.func.coalesce(stmt.excluded.email, accounts.c.email),
                        "state": sa.func.coalesce(stmt.excluded.state, accounts.c.state),
                        "source": stmt.excluded.source,
                        "last_seen_at": stmt.excluded.last_seen_at,
                    },
                ),
                list(rows),
            )

    async def write_scopes(
        self, run_id: str, outcomes: Sequence[ScopeOutcome]
    ) -> list[ScopeChanges]:
        """Apply several scope outcomes in one transaction; return what each changed.

        The batch is read and written with a fixed handful of statements, whatever its size:
        at fleet scale most scopes are empty or unchanged, and per-scope statements would
        cost more than the listing itself.
        """
        with translated(self._engine):
            return await self._write_scopes(run_id, outcomes)

    async def _write_scopes(
        self, run_id: str, outcomes: Sequence[ScopeOutcome]
    ) -> list[ScopeChanges]:
        async with self._engine.begin() as conn:
            listings = [(outcome, dedupe(outcome.records)) for outcome in outcomes]
            stored = await _stored_profiles(conn, listings)
            plans = [
                plan_scope(stored.get(outcome.scope, {}), records, outcome.complete)
                for outcome, records in listings
            ]
            previous = await _current_snapshots(
                conn,
                [arn for plan in plans for arn in (*_arns(plan.updated), *_arns(plan.restored))]
                + [arn for plan in plans for arn in plan.deleted],
            )
            writes = _Writes()
            for (outcome, records), plan in zip(listings, plans, strict=True):
                writes.add_scope(
                    run_id, outcome, records, plan, stored.get(outcome.scope, {}), previous
                )
            await writes.execute(conn)
        return [
            ScopeChanges(
                created=len(plan.created),
                updated=len(plan.updated),
                deleted=len(plan.deleted),
                restored=len(plan.restored),
                unchanged=len(plan.unchanged),
            )
            for plan in plans
        ]


def _arns(records: Iterable[ProfileRecord]) -> list[str]:
    return [record.arn for record in records]


@dataclass
class _Writes:
    """The rows a batch of scopes writes, gathered so each statement runs once per batch."""

    profiles: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    properties: list[dict[str, Any]] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)
    seen_scopes: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    scopes: list[dict[str, Any]] = field(default_factory=list)

    def add_scope(
        self,
        run_id: str,
        outcome: ScopeOutcome,
        records: Sequence[ProfileRecord],
        plan: ScopePlan,
        stored: dict[str, StoredProfile],
        previous: dict[str, Any],
    ) -> None:
        now = outcome.finished_at
        for change_type, changed in (
            ("created", plan.created),
            ("updated", plan.updated),
            ("restored", plan.restored),
        ):
            for record in changed:
                before = stored.get(record.arn)
                version = 1 if before is None else before.version + 1
                old = previous.get(record.arn)
                fields = [] if old is None else changed_paths(old, record.snapshot)
                self.versions.append(
                    _version_row(
                        record.arn,
                        version,
                        change_type,
                        now,
                        run_id,
                        record.snapshot,
                        record.content_hash,
                        fields,
                    )
                )
                self.profiles.append(_profile_row(record, version, now))
                self.properties.extend(
                    {
                        "connector_profile_arn": record.arn,
                        "connector": connector,
                        "path": path,
                        "value": value,
                    }
                    for connector, path, value in flatten_properties(record.properties)
                )
                self.cleared.append(record.arn)
                if before is not None:
                    self.closed.append({"arn": record.arn, "t": now})
        for arn in plan.deleted:
            before = stored[arn]
            self.versions.append(
                _version_row(
                    arn,
                    before.version + 1,
                    "deleted",
                    now,
                    run_id,
                    previous.get(arn, {}),
                    before.content_hash,
                    [],
                )
            )
            self.closed.append({"arn": arn, "t": now})
            self.deleted.append({"arn": arn, "t": now})
            self.cleared.append(arn)
        if outcome.complete:
            # A complete listing saw every live profile of its scope: one statement for the
            # scope rather than one per unchanged profile (most of a rerun's writes).
            if plan.unchanged:
                self.seen_scopes.append(
                    {"a": outcome.scope.account_id, "r": outcome.scope.region, "t": now}
                )
        else:
            self.seen.extend({"arn": arn, "t": now} for arn in plan.unchanged)
        self.scopes.append(_scope_row(run_id, outcome, len(records)))

    async def execute(self, conn: AsyncConnection) -> None:
        p, v = profiles.c, versions.c
        by_arn: sa.BindParameter[str] = sa.bindparam("arn")
        if self.closed:
            await conn.execute(
                sa.update(versions)
                .where(v.connector_profile_arn == by_arn, v.valid_to.is_(None))
                .values(valid_to=sa.bindparam("t")),
                self.closed,
            )
        if self.profiles:
            await _upsert_profiles(conn, self.profiles)
        if self.seen:
            await conn.execute(
                sa.update(profiles)
                .where(p.connector_profile_arn == by_arn)
                .values(last_seen_at=sa.bindparam("t")),
                self.seen,
            )
        if self.deleted:
            await conn.execute(
                sa.update(profiles)
                .where(p.connector_profile_arn == by_arn)
                .values(deleted_at=sa.bindparam("t"), version=p.version + 1),
                self.deleted,
            )
        if self.seen_scopes:
            # After the deletions, which this must not touch (their deleted_at is set now).
            await conn.execute(
                sa.update(profiles)
                .where(
                    p.account_id == sa.bindparam("a"),
                    p.region == sa.bindparam("r"),
                    p.deleted_at.is_(None),
                )
                .values(last_seen_at=sa.bindparam("t")),
                self.seen_scopes,
            )
        for chunk in _chunks(self.cleared):
            await conn.execute(
                sa.delete(properties).where(properties.c.connector_profile_arn.in_(chunk))
            )
        for table, rows in (
            (properties, self.properties),
            (versions, self.versions),
            (collection_scopes, self.scopes),
        ):
            if rows:
                await conn.execute(sa.insert(table), rows)


async def _stored_profiles(
    conn: AsyncConnection, listings: Sequence[tuple[ScopeOutcome, Sequence[ProfileRecord]]]
) -> dict[Scope, dict[str, StoredProfile]]:
    """What the store holds for each scope of a batch, in as few queries as possible.

    A complete listing may delete, so it needs every profile of its scope; an incomplete one
    only the profiles it saw.
    """
    p = profiles.c
    columns = (
        p.connector_profile_arn,
        p.account_id,
        p.region,
        p.content_hash,
        p.version,
        p.deleted_at,
    )
    whole = sorted({(o.scope.account_id, o.scope.region) for o, _ in listings if o.complete})
    seen = [r.arn for o, records in listings if not o.complete for r in records]
    rows: list[Any] = []
    for chunk in _chunks(whole, 200):
        query = sa.select(*columns).where(sa.tuple_(p.account_id, p.region).in_(chunk))
        rows.extend(await conn.execute(query))
    for arns in _chunks(seen):
        rows.extend(
            await conn.execute(sa.select(*columns).where(p.connector_profile_arn.in_(arns)))
        )
    found: dict[Scope, dict[str, StoredProfile]] = {}
    for arn, account_id, region, digest, version, deleted_at in rows:
        found.setdefault(Scope(account_id, region), {})[arn] = StoredProfile(
            arn, digest, version, deleted_at is not None
        )
    return found


def _scope_row(run_id: str, outcome: ScopeOutcome, profile_count: int) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "account_id": outcome.scope.account_id,
        "region": outcome.scope.region,
        "status": outcome.status.value,
        "pages": outcome.pages,
        "profiles": profile_count,
        "attempts": outcome.attempts,
        "complete": outcome.complete and outcome.status is ScopeStatus.SUCCEEDED,
        "error_code": outcome.error_code,
        "aws_error_code": outcome.aws_error_code,
        "error_message": outcome.error_message,
        "started_at": outcome.started_at,
        "finished_at": outcome.finished_at,
    }


def _version_row(
    arn: str,
    version: int,
    change_type: str,
    now: datetime,
    run_id: str,
    snapshot: dict[str, Any],
    digest: str,
    changed_fields: list[str],
) -> dict[str, Any]:
    return {
        "connector_profile_arn": arn,
        "version": version,
        "change_type": change_type,
        "valid_from": now,
        "valid_to": None,
        "changed_fields": changed_fields,
        "snapshot": snapshot,
        "content_hash": digest,
        "run_id": run_id,
    }


def _profile_row(record: ProfileRecord, version: int, now: datetime) -> dict[str, Any]:
    return {
        "connector_profile_arn": record.arn,
        "account_id": record.account_id,
        "region": record.region,
        "connector_profile_name": record.name,
        "connector_type": record.connector_type,
        "connector_label": record.connector_label,
        "connection_mode": record.connection_mode,
        "credentials_arn": record.credentials_arn,
        "created_at": record.created_at,
        "last_updated_at": record.last_updated_at,
        "private_connection_status": record.private_connection_status,
        "private_connection_failure_cause": record.private_connection_failure_cause,
        "private_connection_failure_message": record.private_connection_failure_message,
        "properties": record.properties,
        "content_hash": record.content_hash,
        "version": version,
        "first_seen_at": now,
        "last_seen_at": now,
        "deleted_at": None,
    }


async def _upsert_profiles(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    stmt = _insert(conn, profiles)
    kept = {"connector_profile_arn", "first_seen_at"}
    stmt = stmt.on_conflict_do_update(
        index_elements=[profiles.c.connector_profile_arn],
        set_={c.name: stmt.excluded[c.name] for c in profiles.columns if c.name not in kept},
    )
    await conn.execute(stmt, rows)


async def _current_snapshots(conn: AsyncConnection, arns: Sequence[str]) -> dict[str, Any]:
    snapshots: dict[str, Any] = {}
    for chunk in _chunks(arns):
        query = sa.select(versions.c.connector_profile_arn, versions.c.snapshot).where(
            versions.c.connector_profile_arn.in_(chunk), versions.c.valid_to.is_(None)
        )
        snapshots.update({arn: snapshot for arn, snapshot in await conn.execute(query)})
    return snapshots


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    # SQLAlchemy has no backend-neutral upsert; both dialects' inserts share the arguments used.
    return dialect_named(conn.dialect.name).insert(table)


def _chunks(items: Sequence[T] | Iterable[T], size: int = _CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
