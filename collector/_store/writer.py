"""Writes to the inventory: runs, accounts and, per scope, each resource with its history.

Each batch of scopes is written in one transaction, so after a crash every scope is either
fully applied or not at all. Upserts use the dialect's own `INSERT ... ON CONFLICT`, with
only the arguments PostgreSQL and SQLite share.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .._model.flows import KnownFlow
from .._model.history import Record, ScopePlan, StoredRecord, dedupe, plan_scope
from .._model.profiles import ProfileRecord, changed_paths, flatten_properties
from .._model.run import RunStatus
from .._model.scopes import (
    FLOWS,
    PROFILES,
    Listing,
    Scope,
    ScopeChanges,
    ScopeOutcome,
    ScopeStatus,
)
from .chunks import chunks as _chunks
from .dialects import dialect_named
from .errors import translated
from .flows import FLOW_SPEC, link_profiles, stored_flow_digests
from .schema import (
    accounts,
    collection_runs,
    collection_scope_resources,
    collection_scopes,
    connector_profile_properties,
    connector_profile_versions,
    connector_profiles,
)
from .spec import Children, ResourceSpec

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
        resources: str | None = None,
    ) -> None:
        with translated(self._engine):
            await self._begin_run(run_id, started_at, filtered, run_label, shard, resources)

    async def _begin_run(
        self,
        run_id: str,
        started_at: datetime,
        filtered: bool,
        run_label: str | None,
        shard: str | None,
        resources: str | None,
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
                    resources=resources,
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
    ) -> list[dict[str, ScopeChanges]]:
        """Apply several scope outcomes in one transaction; return what each changed, by
        resource.

        The batch is read and written with a fixed handful of statements per resource,
        whatever its size: at fleet scale most scopes are empty or unchanged, and per-scope
        statements would cost more than the listing itself.
        """
        with translated(self._engine):
            return await self._write_scopes(run_id, outcomes)

    async def _write_scopes(
        self, run_id: str, outcomes: Sequence[ScopeOutcome]
    ) -> list[dict[str, ScopeChanges]]:
        changes: list[dict[str, ScopeChanges]] = [{} for _ in outcomes]
        async with self._engine.begin() as conn:
            for spec in RESOURCE_SPECS.values():
                listed = [
                    (index, outcome, outcome.listings[spec.name])
                    for index, outcome in enumerate(outcomes)
                    if spec.name in outcome.listings
                ]
                if not listed:
                    continue
                written = await _write_resource(
                    conn, spec, run_id, [(o, listing) for _, o, listing in listed]
                )
                for (index, _, _), change in zip(listed, written, strict=True):
                    changes[index][spec.name] = change
            await conn.execute(
                sa.insert(collection_scopes), [_scope_row(run_id, o) for o in outcomes]
            )
            resources = [
                _resource_row(run_id, outcome, name, listing)
                for outcome in outcomes
                for name, listing in outcome.listings.items()
            ]
            if resources:
                await conn.execute(sa.insert(collection_scope_resources), resources)
            # After profiles and flows are written: a profile created after its flow is
            # linked now, and a deleted profile's links lose its ARN.
            await link_profiles(conn, sorted({o.scope for o in outcomes}))
        return changes

    async def known_flows(self, account_ids: Sequence[str]) -> dict[str, KnownFlow]:
        """The digests of every live flow stored for these accounts, by ARN: a listed flow
        whose definition is the stored one need not be described again."""
        with translated(self._engine):
            async with self._engine.connect() as conn:
                return await stored_flow_digests(conn, account_ids)


async def _write_resource(
    conn: AsyncConnection,
    spec: ResourceSpec,
    run_id: str,
    listed: Sequence[tuple[ScopeOutcome, Listing]],
) -> list[ScopeChanges]:
    """Write one resource's listings of a batch of scopes; return what each changed."""
    listings = [(outcome, listing, dedupe(listing.records)) for outcome, listing in listed]
    stored = await _stored_records(conn, spec, listings)
    plans = [
        plan_scope(stored.get(outcome.scope, {}), records, listing.complete)
        for outcome, listing, records in listings
    ]
    previous = await _current_snapshots(
        conn,
        spec,
        [arn for plan in plans for arn in (*_arns(plan.updated), *_arns(plan.restored))]
        + [arn for plan in plans for arn in plan.deleted],
    )
    writes = _Writes(spec)
    for (outcome, listing, records), plan in zip(listings, plans, strict=True):
        scope_stored = stored.get(outcome.scope, {})
        writes.add_scope(run_id, outcome, listing.complete, records, plan, scope_stored, previous)
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


def _arns(records: Iterable[Record]) -> list[str]:
    return [record.arn for record in records]


@dataclass
class _Writes:
    """The rows a batch of scopes writes for one resource, gathered so each statement runs
    once per batch."""

    spec: ResourceSpec
    records: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    closed: list[dict[str, Any]] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)
    seen_scopes: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    cleared_on_delete: list[str] = field(default_factory=list)

    def add_scope(
        self,
        run_id: str,
        outcome: ScopeOutcome,
        complete: bool,
        records: Sequence[Record],
        plan: ScopePlan[Record],
        stored: dict[str, StoredRecord],
        previous: dict[str, Any],
    ) -> None:
        spec = self.spec
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
                fields = [] if old is None else spec.changed_fields(old, record.snapshot)
                self.versions.append(
                    _version_row(
                        spec.key,
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
                self.records.append(spec.row(record, version, now))
                for children in spec.children:
                    self.children.setdefault(children.table.name, []).extend(children.rows(record))
                self.cleared.append(record.arn)
                if before is not None:
                    self.closed.append({"arn": record.arn, "t": now})
        for arn in plan.deleted:
            before = stored[arn]
            self.versions.append(
                _version_row(
                    spec.key,
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
            self.cleared_on_delete.append(arn)
        if complete and not spec.seen_columns:
            # A complete listing saw every live record of its scope: one statement for the
            # scope rather than one per unchanged record (most of a rerun's writes).
            if plan.unchanged:
                self.seen_scopes.append(
                    {"a": outcome.scope.account_id, "r": outcome.scope.region, "t": now}
                )
        else:
            by_arn = {record.arn: record for record in records}
            self.seen.extend(
                {"arn": arn, "t": now, **_seen_values(spec, by_arn[arn])} for arn in plan.unchanged
            )

    async def execute(self, conn: AsyncConnection) -> None:
        spec = self.spec
        table, versions = spec.table, spec.versions
        by_arn: sa.BindParameter[str] = sa.bindparam("arn")
        if self.closed:
            await conn.execute(
                sa.update(versions)
                .where(versions.c[spec.key] == by_arn, versions.c.valid_to.is_(None))
                .values(valid_to=sa.bindparam("t")),
                self.closed,
            )
        if self.records:
            await _upsert(conn, spec, self.records)
        if self.seen:
            await conn.execute(
                sa.update(table)
                .where(spec.arn == by_arn)
                .values(
                    last_seen_at=sa.bindparam("t"),
                    **{name: sa.bindparam(f"v_{name}") for name in spec.seen_columns},
                ),
                self.seen,
            )
        if self.deleted:
            await conn.execute(
                sa.update(table)
                .where(spec.arn == by_arn)
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
        for children in spec.children:
            key = children.table.c[spec.key]
            gone = self.cleared + (self.cleared_on_delete if children.cleared_on_delete else [])
            for chunk in _chunks(gone):
                await conn.execute(sa.delete(children.table).where(key.in_(chunk)))
        for child_table, rows in (
            *((c.table, self.children.get(c.table.name, [])) for c in spec.children),
            (versions, self.versions),
        ):
            if rows:
                await conn.execute(sa.insert(child_table), rows)


def _seen_values(spec: ResourceSpec, record: Record) -> dict[str, Any]:
    return {f"v_{name}": value for name, value in spec.seen(record).items()}


async def _stored_records(
    conn: AsyncConnection,
    spec: ResourceSpec,
    listings: Sequence[tuple[ScopeOutcome, Listing, Sequence[Record]]],
) -> dict[Scope, dict[str, StoredRecord]]:
    """What the store holds for each scope of a batch, in as few queries as possible.

    A complete listing may delete, so it needs every record of its scope; an incomplete one
    only the records it saw.
    """
    t = spec.table.c
    columns = (spec.arn, t.account_id, t.region, t.content_hash, t.version, t.deleted_at)
    whole = sorted({(o.scope.account_id, o.scope.region) for o, li, _ in listings if li.complete})
    seen = [r.arn for _, listing, records in listings if not listing.complete for r in records]
    rows: list[Any] = []
    for chunk in _chunks(whole, 200):
        query = sa.select(*columns).where(sa.tuple_(t.account_id, t.region).in_(chunk))
        rows.extend(await conn.execute(query))
    for arns in _chunks(seen):
        rows.extend(await conn.execute(sa.select(*columns).where(spec.arn.in_(arns))))
    found: dict[Scope, dict[str, StoredRecord]] = {}
    for arn, account_id, region, digest, version, deleted_at in rows:
        found.setdefault(Scope(account_id, region), {})[arn] = StoredRecord(
            arn, digest, version, deleted_at is not None
        )
    return found


def _scope_row(run_id: str, outcome: ScopeOutcome) -> dict[str, Any]:
    # The scope's status and error; its pages, profiles, attempts and completeness are the
    # connector profiles' listing's (`collection_scope_resources` has every resource's).
    profiles = outcome.listing(PROFILES)
    return {
        "run_id": run_id,
        "account_id": outcome.scope.account_id,
        "region": outcome.scope.region,
        "status": outcome.status.value,
        "pages": profiles.pages,
        "profiles": len(dedupe(profiles.records)),
        "attempts": profiles.attempts,
        "complete": profiles.complete and outcome.status is ScopeStatus.SUCCEEDED,
        "error_code": outcome.error_code,
        "aws_error_code": outcome.aws_error_code,
        "error_message": outcome.error_message,
        "started_at": outcome.started_at,
        "finished_at": outcome.finished_at,
    }


def _resource_row(
    run_id: str, outcome: ScopeOutcome, resource: str, listing: Listing
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "account_id": outcome.scope.account_id,
        "region": outcome.scope.region,
        "resource": resource,
        "status": listing.status.value,
        "complete": listing.complete and listing.status is ScopeStatus.SUCCEEDED,
        "pages": listing.pages,
        "items": len(dedupe(listing.records)),
        "attempts": listing.attempts,
        "retries": listing.retries,
        "error_code": listing.error_code,
        "aws_error_code": listing.aws_error_code,
        "error_message": listing.error_message,
    }


def _version_row(
    key: str,
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
        key: arn,
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


def _property_rows(record: ProfileRecord) -> Iterator[dict[str, Any]]:
    for connector, path, value in flatten_properties(record.properties):
        yield {
            "connector_profile_arn": record.arn,
            "connector": connector,
            "path": path,
            "value": value,
        }


PROFILE_SPEC = ResourceSpec(
    name=PROFILES,
    table=profiles,
    versions=versions,
    key="connector_profile_arn",
    row=_profile_row,
    changed_fields=changed_paths,
    children=(Children(properties, _property_rows, cleared_on_delete=True),),
)
RESOURCE_SPECS: dict[str, ResourceSpec] = {PROFILES: PROFILE_SPEC, FLOWS: FLOW_SPEC}
"""Every resource the inventory keeps, in the order a batch writes them (profiles first, so
the links of flows written with them resolve)."""


async def _upsert(conn: AsyncConnection, spec: ResourceSpec, rows: list[dict[str, Any]]) -> None:
    stmt = _insert(conn, spec.table)
    kept = {spec.key, "first_seen_at"}
    stmt = stmt.on_conflict_do_update(
        index_elements=[spec.arn],
        set_={c.name: stmt.excluded[c.name] for c in spec.table.columns if c.name not in kept},
    )
    await conn.execute(stmt, rows)


async def _current_snapshots(
    conn: AsyncConnection, spec: ResourceSpec, arns: Sequence[str]
) -> dict[str, Any]:
    key = spec.versions.c[spec.key]
    snapshots: dict[str, Any] = {}
    for chunk in _chunks(arns):
        query = sa.select(key, spec.versions.c.snapshot).where(
            key.in_(chunk), spec.versions.c.valid_to.is_(None)
        )
        snapshots.update({arn: snapshot for arn, snapshot in await conn.execute(query)})
    return snapshots


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    # SQLAlchemy has no backend-neutral upsert; both dialects' inserts share the arguments used.
    return dialect_named(conn.dialect.name).insert(table)
