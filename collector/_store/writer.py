"""Writes to the inventory: runs, accounts and, per scope, each resource with its history.

Each batch of scopes is written in one transaction, so after a crash every scope is either
fully applied or not at all. Upserts use the dialect's own `INSERT ... ON CONFLICT`, with
only the arguments PostgreSQL and SQLite share.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .._model.history import dedupe
from .._model.organization import LEFT, LEFT_STATE
from .._model.resource import Known, Resource
from .._model.resources import LINKS, PROFILES, RESOURCES
from .._model.run import CHANGE_TYPES, RunResult, RunStatus
from .._model.scopes import Listing, Scope, ScopeChanges, ScopeOutcome, ScopeStatus
from .chunks import chunks
from .dialects import dialect_named
from .errors import translated
from .history import retire, write_resource
from .known import known_records
from .links import resolve_links
from .patience import Patience, ride_out
from .schema import (
    accounts,
    collection_run_resources,
    collection_runs,
    collection_scope_resources,
    collection_scopes,
)
from .tables import tables_of

P = ParamSpec("P")
T = TypeVar("T")


def _patient(
    method: Callable[Concatenate[Store, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[Store, P], Coroutine[Any, Any, T]]:
    """The method, ridden out while the database is away (see `patience`)."""

    @functools.wraps(method)
    async def patient(store: Store, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if store._patience is None:
            return await method(store, *args, **kwargs)
        return await ride_out(
            lambda: method(store, *args, **kwargs), store._patience, store._recovered
        )

    return patient


class Store:
    """The collector's writes, over one async engine.

    Every method raises `DatabaseError` if the database fails, and `write_scopes` raises
    `RefusedDataError` if the database refuses the values of the batch. With `patience`,
    a database that is away is waited for (and `recovered` run when it is back) before
    `DatabaseUnavailableError` ends the run.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        patience: Patience | None = None,
        recovered: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._engine = engine
        self._patience = patience
        self._recovered = recovered

    @_patient
    async def begin_run(
        self, result: RunResult, *, filtered: bool, run_label: str | None, shard: str | None
    ) -> None:
        """Record a run as started; any other run of its shard still marked running ended
        without finishing."""
        with translated(self._engine):
            async with self._engine.begin() as conn:
                await _close_abandoned_runs(conn, shard)
                await conn.execute(
                    sa.insert(collection_runs).values(
                        run_id=result.run_id,
                        started_at=result.started_at,
                        status=RunStatus.RUNNING,
                        filtered=filtered,
                        run_label=run_label,
                        shard=shard,
                        resources=",".join(resource.name for resource in result.resources),
                    )
                )

    @_patient
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

    @_patient
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

    @_patient
    async def finish_run(self, result: RunResult) -> None:
        """Record how a run ended, with its counts: every resource's in
        `collection_run_resources`, profiles' and flows' also as `collection_runs` columns."""
        with translated(self._engine):
            async with self._engine.begin() as conn:
                await conn.execute(
                    sa.update(collection_runs)
                    .where(collection_runs.c.run_id == result.run_id)
                    .values(**_run_row(result))
                )
                counts = [
                    {
                        "run_id": result.run_id,
                        "resource": resource.name,
                        **_counts(result, resource),
                    }
                    for resource in RESOURCES
                    # A resource not listed may still lose what a departed account held.
                    if resource in result.resources or resource in result.counts
                ]
                if counts:
                    await _replace_run_counts(conn, result.run_id, counts)

    @_patient
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
                        # Listed again: a member again, if it had left.
                        "left_at": sa.null(),
                    },
                ),
                list(rows),
            )

    @_patient
    async def member_accounts(self) -> set[str]:
        """The accounts recorded as members of the organization, and not since seen gone."""
        a = accounts.c
        query = sa.select(a.account_id).where(a.source == "organization", a.left_at.is_(None))
        with translated(self._engine):
            async with self._engine.connect() as conn:
                return {str(account) for account in (await conn.execute(query)).scalars()}

    @_patient
    async def retire_accounts(
        self, run_id: str, reasons: Mapping[str, str], at: datetime
    ) -> dict[Resource, int]:
        """In one transaction: mark deleted every live record of every resource in the
        accounts of `reasons` (account id -> `account_closed` or `account_left`), and record
        when those that left did; return how many records of each resource went."""
        if not reasons:
            return {}
        with translated(self._engine):
            async with self._engine.begin() as conn:
                retired = {
                    resource: await retire(conn, tables_of(resource), run_id, reasons, at)
                    for resource in RESOURCES
                }
                await _record_departures(conn, [a for a, r in reasons.items() if r == LEFT], at)
                scopes = await _scopes_of(conn, sorted(reasons))
                await resolve_links(conn, LINKS, scopes)
        return retired

    @_patient
    async def write_scopes(
        self, run_id: str, outcomes: Sequence[ScopeOutcome]
    ) -> list[dict[Resource, ScopeChanges]]:
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
    ) -> list[dict[Resource, ScopeChanges]]:
        changes: list[dict[Resource, ScopeChanges]] = [{} for _ in outcomes]
        async with self._engine.begin() as conn:
            for resource in RESOURCES:
                listed = [
                    (index, outcome, outcome.listings[resource])
                    for index, outcome in enumerate(outcomes)
                    if resource in outcome.listings
                ]
                if not listed:
                    continue
                written = await write_resource(
                    conn, tables_of(resource), run_id, [(o, listing) for _, o, listing in listed]
                )
                for (index, _, _), change in zip(listed, written, strict=True):
                    changes[index][resource] = change
            await conn.execute(
                sa.insert(collection_scopes), [_scope_row(run_id, o) for o in outcomes]
            )
            resources = [
                _resource_row(run_id, outcome, resource, listing)
                for outcome in outcomes
                for resource, listing in outcome.listings.items()
            ]
            if resources:
                await conn.execute(sa.insert(collection_scope_resources), resources)
            # After every resource is written: a target created after what names it is
            # linked now, and a deleted one's links lose its ARN.
            await resolve_links(conn, LINKS, [o.scope for o in outcomes])
        return changes

    @_patient
    async def known(
        self, resource: Resource, account_ids: Sequence[str]
    ) -> dict[tuple[str, str, str], Known]:
        """What the store holds of the live records of `resource` in these accounts, for
        a listing of summaries to tell which need describing."""
        with translated(self._engine):
            async with self._engine.connect() as conn:
                return await known_records(conn, resource, account_ids)


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
    run_id: str, outcome: ScopeOutcome, resource: Resource, listing: Listing
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "account_id": outcome.scope.account_id,
        "region": outcome.scope.region,
        "resource": resource.name,
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


async def _record_departures(conn: AsyncConnection, account_ids: list[str], at: datetime) -> None:
    """Accounts no longer in the organization: `LEFT`, and since when."""
    for chunk in chunks(account_ids):
        await conn.execute(
            sa.update(accounts)
            .where(accounts.c.account_id.in_(chunk), accounts.c.left_at.is_(None))
            .values(state=LEFT_STATE, left_at=at)
        )


async def _scopes_of(conn: AsyncConnection, account_ids: list[str]) -> list[Scope]:
    """Every (account, region) any resource of these accounts was seen in."""
    found: set[Scope] = set()
    for resource in RESOURCES:
        t = tables_of(resource).table.c
        for chunk in chunks(account_ids):
            query = sa.select(t.account_id, t.region).where(t.account_id.in_(chunk)).distinct()
            found.update(Scope(account, region) for account, region in await conn.execute(query))
    return sorted(found)


async def _close_abandoned_runs(conn: AsyncConnection, shard: str | None) -> None:
    # Whoever holds the run lock is the only live run (of this shard): any other run still
    # marked running ended without finishing (killed, or the machine died).
    runs = collection_runs.c
    await conn.execute(
        sa.update(collection_runs)
        .where(
            runs.status == RunStatus.RUNNING,
            runs.shard.is_(None) if shard is None else runs.shard == shard,
        )
        .values(status=RunStatus.INTERRUPTED, error_message="the run ended without finishing")
    )


def _counts(result: RunResult, resource: Resource) -> dict[str, int]:
    counts = result.count(resource)
    return {kind: counts[kind] for kind in ("seen", *CHANGE_TYPES)}


def _run_row(result: RunResult) -> dict[str, Any]:
    row: dict[str, Any] = {
        "finished_at": result.finished_at,
        "status": result.status,
        "scopes_total": sum(result.scopes.values()),
        "scopes_succeeded": result.scopes[ScopeStatus.SUCCEEDED],
        "scopes_failed": result.scopes[ScopeStatus.FAILED],
        "scopes_skipped": result.scopes[ScopeStatus.SKIPPED],
        "requests": result.requests,
        "retries": result.retries,
        "error_message": result.error,
    }
    for resource in RESOURCES:
        if resource.run_columns is not None:
            counts = _counts(result, resource)
            row.update({f"{resource.run_columns}_{kind}": n for kind, n in counts.items()})
    return row


async def _replace_run_counts(
    conn: AsyncConnection, run_id: str, counts: list[dict[str, Any]]
) -> None:
    # A run is finished once, but a failed finish may be retried: replace, never add.
    await conn.execute(
        sa.delete(collection_run_resources).where(collection_run_resources.c.run_id == run_id)
    )
    await conn.execute(sa.insert(collection_run_resources), counts)


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    # SQLAlchemy has no backend-neutral upsert; both dialects' inserts share the arguments used.
    return dialect_named(conn.dialect.name).insert(table)
