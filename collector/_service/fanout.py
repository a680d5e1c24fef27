"""The fan-out: a fixed pool of workers lists scopes, one writer stores them in batches.

Workers hand each finished scope to the writer through a small bounded stream, so memory is
bounded by the concurrency, not by the size of the fleet, and the database sees one writer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from .._aws import AwsClients, RetryPolicy, acting_as
from .._config import Settings
from .._errors import AwsError, ErrorKind, RefusedDataError, unwrap_group
from .._model.organization import AccountInfo
from .._model.run import RunResult
from .._model.scopes import FLOWS, PROFILES, Scope, ScopeChanges, ScopeOutcome, ScopeStatus
from .._store import Store
from .regions import OptInEvidence, listing_order, opt_in_verdict, refused_as_unknown_token
from .resources import Lister, list_resources, prepare_listers

log = logging.getLogger("collector")
# Per-scope events: quiet in text logs unless verbose, every one in JSON logs.
scope_log = logging.getLogger("collector.scope")

# Scopes written per transaction. Each scope stays atomic; grouping saves a commit per scope.
WRITE_BATCH = 64
# ...and at most this many records (profiles and flows), so a batch of large scopes stays
# small in memory.
WRITE_BATCH_PROFILES = 2000
# Finished scopes waiting for the writer. Small on purpose: when the writer falls behind,
# workers wait rather than pile up listings in memory.
PENDING_SCOPES = 16


class RunObserver(Protocol):
    """Told about a run's progress, e.g. to draw a progress line."""

    def planned(self, scopes: int) -> None: ...

    def finished(self, outcome: ScopeOutcome) -> None: ...


async def fan_out(
    settings: Settings,
    aws: AwsClients,
    store: Store,
    result: RunResult,
    retry: RetryPolicy,
    now: Callable[[], datetime],
    accounts: Sequence[AccountInfo],
    observer: RunObserver | None,
) -> None:
    """List every scope of `accounts` and write each as it completes."""
    shard = None if settings.shard is None else str(settings.shard)
    scopes = listing_order(
        [Scope(a.account_id, r) for a in accounts if a.collect for r in a.regions],
        await store.paged_scopes(shard),
    )
    evidence = OptInEvidence(scopes)
    listers = await prepare_listers(settings, store, accounts)
    if observer is not None:
        observer.planned(len(scopes))
    send, receive = anyio.create_memory_object_stream[ScopeOutcome](
        min(PENDING_SCOPES, settings.concurrency)
    )
    # A fixed pool of workers pulling from one queue of scopes, rather than a task per scope:
    # 16,000 waiting tasks cost memory, and a worker that finishes a scope hands it to the
    # writer before taking the next, so listings never pile up behind a slow writer.
    pending = iter(scopes)

    async def work() -> None:
        for scope in pending:
            outcome = await _contained(aws, evidence, scope, listers, retry, now)
            evidence.finished(outcome)
            await send.send(outcome)

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_write_all, store, result, receive, observer)
            async with send, anyio.create_task_group() as workers:
                for _ in range(min(settings.concurrency, len(scopes))):
                    workers.start_soon(work)
    except BaseExceptionGroup as group_error:
        raise unwrap_group(group_error) from None


async def _contained(
    aws: AwsClients,
    evidence: OptInEvidence,
    scope: Scope,
    listers: Sequence[tuple[str, Lister]],
    retry: RetryPolicy,
    now: Callable[[], datetime],
) -> ScopeOutcome:
    """List one scope; whatever goes wrong fails that scope only, never the run."""
    started = now()
    try:
        return await _collect_scope(aws, evidence, scope, listers, retry, now)
    except Exception as exc:
        # Not weather but a bug, or data nothing foresaw: one scope's worth, logged once.
        log.error("scope %s: internal error %s: %s", scope, type(exc).__name__, exc, exc_info=True)
        outcome = _failed(
            scope,
            AwsError(ErrorKind.INTERNAL_ERROR, type(exc).__name__, str(exc)[:500]),
            now(),
        )
        outcome.started_at = started
        return outcome


async def _collect_scope(
    aws: AwsClients,
    evidence: OptInEvidence,
    scope: Scope,
    listers: Sequence[tuple[str, Lister]],
    retry: RetryPolicy,
    now: Callable[[], datetime],
) -> ScopeOutcome:
    try:
        credentials = await aws.account_credentials(scope.account_id)
    except AwsError as error:
        return _failed(scope, error, now())
    client = await aws.appflow(scope.region)
    with acting_as(credentials), aws.scope_budget():
        outcome = await list_resources(client, scope, listers, retry, now)
    if any(listing.error_code == ErrorKind.TOO_LARGE for listing in outcome.listings.values()):
        return _too_large(outcome)
    if aws.is_opt_in(scope.region) and refused_as_unknown_token(outcome):
        return await opt_in_verdict(aws, evidence, outcome, credentials)
    return outcome


async def _write_all(
    store: Store,
    result: RunResult,
    receive: MemoryObjectReceiveStream[ScopeOutcome],
    observer: RunObserver | None,
) -> None:
    async with receive:
        async for first in receive:
            batch = [first]
            profiles = first.items
            while len(batch) < WRITE_BATCH and profiles < WRITE_BATCH_PROFILES:
                try:
                    batch.append(receive.receive_nowait())
                except (anyio.WouldBlock, anyio.EndOfStream):
                    break
                profiles += batch[-1].items
            # A batch in hand is written to the end even if the run is being stopped: its
            # scopes are complete, and a transaction cut mid-way would hold SQLite's lock.
            with anyio.CancelScope(shield=True):
                written = await _write_batch(store, result.run_id, batch)
            for outcome, change in written:
                result.tally(outcome, change)
                _log_scope(result.run_id, outcome)
                if observer is not None:
                    observer.finished(outcome)


async def _write_batch(
    store: Store, run_id: str, batch: list[ScopeOutcome]
) -> list[tuple[ScopeOutcome, dict[str, ScopeChanges]]]:
    """Write a batch; if the database refuses some scope's data, fail only that scope.

    A value the database cannot hold (say, a field longer than a column) must not cost the
    other scopes of the batch, nor end the run. The refused scope is recorded as failed
    with nothing written, so it cannot delete anything either.
    """
    try:
        return list(zip(batch, await store.write_scopes(run_id, batch), strict=True))
    except RefusedDataError as error:
        if len(batch) > 1:
            return [pair for one in batch for pair in await _write_batch(store, run_id, [one])]
        refused = batch[0]
        log.warning("scope %s: the database refused its data: %s", refused.scope, error)
        message = f"the database refused this scope's data: {error}"
        failed = ScopeOutcome(
            refused.scope,
            ScopeStatus.FAILED,
            started_at=refused.started_at,
            finished_at=refused.finished_at,
            listings={
                name: listing.failed(ErrorKind.INVALID_RESPONSE.value, "UnstorableData", message)
                for name, listing in refused.listings.items()
            },
            error_code=ErrorKind.INVALID_RESPONSE.value,
            aws_error_code="UnstorableData",
            error_message=message,
        )
        return list(zip([failed], await store.write_scopes(run_id, [failed]), strict=True))


def _log_scope(run_id: str, outcome: ScopeOutcome) -> None:
    fields = {
        "event": f"scope_{outcome.status.value}",
        "run_id": run_id,
        "account": outcome.scope.account_id,
        "region": outcome.scope.region,
        "duration": round((outcome.finished_at - outcome.started_at).total_seconds(), 3),
        "attempts": outcome.attempts,
        "pages": outcome.listing(PROFILES).pages,
        "profiles": len(outcome.listing(PROFILES).records),
    }
    if FLOWS in outcome.listings:
        fields["flows"] = len(outcome.listings[FLOWS].records)
    if outcome.status is ScopeStatus.FAILED:
        fields["error_code"] = outcome.error_code
        scope_log.warning(
            "scope %s failed: %s: %s",
            outcome.scope,
            outcome.error_code,
            outcome.error_message,
            extra=fields,
        )
    else:
        scope_log.info("scope %s %s", outcome.scope, outcome.status.value, extra=fields)


def _too_large(outcome: ScopeOutcome) -> ScopeOutcome:
    """A scope over its byte budget fails whole: every listing's records are dropped, so
    nothing of it is written and nothing is marked deleted from what it did list."""
    message = next(
        str(listing.error_message)
        for listing in outcome.listings.values()
        if listing.error_code == ErrorKind.TOO_LARGE
    )
    listings = {
        name: listing.failed(ErrorKind.TOO_LARGE.value, "ScopeTooLarge", message)
        for name, listing in outcome.listings.items()
    }
    return ScopeOutcome.of(outcome.scope, outcome.started_at, outcome.finished_at, listings)


def _failed(scope: Scope, error: AwsError, at: datetime) -> ScopeOutcome:
    return ScopeOutcome(
        scope,
        ScopeStatus.FAILED,
        started_at=at,
        finished_at=at,
        error_code=error.kind.value,
        aws_error_code=error.code,
        error_message=error.message or error.code,
    )
