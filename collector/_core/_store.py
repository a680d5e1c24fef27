"""Writes to the inventory: runs, accounts and, per scope, profiles with their history.

Each batch of scopes is written in one transaction, so after a crash every scope is either
fully applied or not at all. Upserts use the dialect's own `INSERT ... ON CONFLICT`, with
only the arguments PostgreSQL and SQLite share.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ._diff import ScopePlan, StoredProfile, dedupe, plan_scope
from ._normalize import ProfileRecord, changed_paths, flatten_properties
from ._schema import (
    accounts,
    collection_runs,
    collection_scopes,
    connector_profile_properties,
    connector_profile_versions,
    connector_profiles,
)
from ._scopes import ScopeChanges, ScopeOutcome, ScopeStatus

T = TypeVar("T")

# Bound parameters per statement stay well under SQLite's limit (32766) and asyncpg's (32767).
_CHUNK = 500

profiles = connector_profiles
versions = connector_profile_versions
properties = connector_profile_properties


class Store:
    """The collector's writes, over one async engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def begin_run(self, run_id: str, started_at: datetime, *, filtered: bool) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.insert(collection_runs).values(
                    run_id=run_id, started_at=started_at, status="running", filtered=filtered
                )
            )

    async def finish_run(self, run_id: str, **values: Any) -> None:
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
        """Apply several scope outcomes in one transaction; return what each changed."""
        async with self._engine.begin() as conn:
            return [await _write_scope(conn, run_id, outcome) for outcome in outcomes]


async def _write_scope(conn: AsyncConnection, run_id: str, outcome: ScopeOutcome) -> ScopeChanges:
    records = dedupe(outcome.records)
    changes = ScopeChanges()
    if records or outcome.complete:
        stored = await _stored_profiles(conn, outcome, records)
        plan = plan_scope(stored, records, outcome.complete)
        await _apply(conn, run_id, plan, stored, outcome.finished_at)
        changes = ScopeChanges(
            created=len(plan.created),
            updated=len(plan.updated),
            deleted=len(plan.deleted),
            restored=len(plan.restored),
            unchanged=len(plan.unchanged),
        )
    await conn.execute(
        sa.insert(collection_scopes).values(
            run_id=run_id,
            account_id=outcome.scope.account_id,
            region=outcome.scope.region,
            status=outcome.status.value,
            pages=outcome.pages,
            profiles=len(records),
            attempts=outcome.attempts,
            complete=outcome.complete and outcome.status is ScopeStatus.SUCCEEDED,
            error_code=outcome.error_code,
            aws_error_code=outcome.aws_error_code,
            error_message=outcome.error_message,
            started_at=outcome.started_at,
            finished_at=outcome.finished_at,
        )
    )
    return changes


async def _stored_profiles(
    conn: AsyncConnection, outcome: ScopeOutcome, records: Sequence[ProfileRecord]
) -> dict[str, StoredProfile]:
    columns = (
        profiles.c.connector_profile_arn,
        profiles.c.content_hash,
        profiles.c.version,
        profiles.c.deleted_at,
    )
    if outcome.complete:
        # A complete listing may delete, so it needs every profile of the scope.
        query = sa.select(*columns).where(
            profiles.c.account_id == outcome.scope.account_id,
            profiles.c.region == outcome.scope.region,
        )
        rows = list(await conn.execute(query))
    else:
        rows = []
        for chunk in _chunks([r.arn for r in records]):
            query = sa.select(*columns).where(profiles.c.connector_profile_arn.in_(chunk))
            rows.extend(await conn.execute(query))
    return {
        arn: StoredProfile(arn, digest, version, deleted_at is not None)
        for arn, digest, version, deleted_at in rows
    }


async def _apply(
    conn: AsyncConnection,
    run_id: str,
    plan: ScopePlan,
    stored: dict[str, StoredProfile],
    now: datetime,
) -> None:
    changed = plan.changed
    previous = await _current_snapshots(
        conn, [r.arn for r in (*plan.updated, *plan.restored)] + plan.deleted
    )
    closing = [r.arn for r in (*plan.updated, *plan.restored)] + plan.deleted
    for chunk in _chunks(closing):
        await conn.execute(
            sa.update(versions)
            .where(versions.c.connector_profile_arn.in_(chunk), versions.c.valid_to.is_(None))
            .values(valid_to=now)
        )
    new_versions: list[dict[str, Any]] = []
    for change_type, records in (
        ("created", plan.created),
        ("updated", plan.updated),
        ("restored", plan.restored),
    ):
        for record in records:
            before = previous.get(record.arn)
            version = stored[record.arn].version + 1 if record.arn in stored else 1
            new_versions.append(
                _version_row(
                    record.arn,
                    version,
                    change_type,
                    now,
                    run_id,
                    record.snapshot,
                    record.content_hash,
                    [] if before is None else changed_paths(before, record.snapshot),
                )
            )
    for arn in plan.deleted:
        before_snapshot = previous.get(arn, {})
        new_versions.append(
            _version_row(
                arn,
                stored[arn].version + 1,
                "deleted",
                now,
                run_id,
                before_snapshot,
                stored[arn].content_hash,
                [],
            )
        )
    if changed:
        await _upsert_profiles(conn, changed, stored, now)
    for chunk in _chunks(plan.unchanged):
        await conn.execute(
            sa.update(profiles)
            .where(profiles.c.connector_profile_arn.in_(chunk))
            .values(last_seen_at=now)
        )
    for chunk in _chunks(plan.deleted):
        await conn.execute(
            sa.update(profiles)
            .where(profiles.c.connector_profile_arn.in_(chunk))
            .values(deleted_at=now, version=profiles.c.version + 1)
        )
    for chunk in _chunks([r.arn for r in changed] + plan.deleted):
        await conn.execute(
            sa.delete(properties).where(properties.c.connector_profile_arn.in_(chunk))
        )
    property_rows = [
        {"connector_profile_arn": r.arn, "connector": connector, "path": path, "value": value}
        for r in changed
        for connector, path, value in flatten_properties(r.properties)
    ]
    if property_rows:
        await conn.execute(sa.insert(properties), property_rows)
    if new_versions:
        await conn.execute(sa.insert(versions), new_versions)


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


async def _upsert_profiles(
    conn: AsyncConnection,
    records: Sequence[ProfileRecord],
    stored: dict[str, StoredProfile],
    now: datetime,
) -> None:
    rows = [
        {
            "connector_profile_arn": r.arn,
            "account_id": r.account_id,
            "region": r.region,
            "connector_profile_name": r.name,
            "connector_type": r.connector_type,
            "connector_label": r.connector_label,
            "connection_mode": r.connection_mode,
            "credentials_arn": r.credentials_arn,
            "created_at": r.created_at,
            "last_updated_at": r.last_updated_at,
            "private_connection_status": r.private_connection_status,
            "private_connection_failure_cause": r.private_connection_failure_cause,
            "private_connection_failure_message": r.private_connection_failure_message,
            "properties": r.properties,
            "content_hash": r.content_hash,
            "version": stored[r.arn].version + 1 if r.arn in stored else 1,
            "first_seen_at": now,
            "last_seen_at": now,
            "deleted_at": None,
        }
        for r in records
    ]
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
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _chunks(items: Sequence[T] | Iterable[T], size: int = _CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
