"""The fan-out: a fixed pool of workers lists scopes, one writer stores them in batches.

Workers hand each finished scope to the writer through a small bounded stream, so memory is
bounded by the concurrency, not by the size of the fleet, and the database sees one writer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from .._aws import ListingPlan, acting_as
from .._errors import AwsError, ErrorKind, RefusedDataError, unwrap_group
from .._model.organization import AccountInfo
from .._model.regions import is_opt_in
from .._model.resource import Resource
from .._model.resources import PROFILES
from .._model.scopes import Scope, ScopeChanges, ScopeOutcome, ScopeStatus
from .._store import Store
from .context import Run
from .regions import (
    OptInEvidence,
    listing_order,
    opt_in_verdict,
    refused_as_unknown_token,
    unreachable_verdict,
)
from .resources import list_resources, prepare_listings

log = logging.getLogger("collector")
# Per-scope events: quiet in text logs unless verbose, every one in JSON logs.
scope_log = logging.getLogger("collector.scope")

# Scopes written per transaction. Each scope stays atomic; grouping saves a commit per scope.
WRITE_BATCH = 64
# ...and at most this many records (of every resource), so a batch of large scopes stays
# small in memory.
WRITE_BATCH_RECORDS = 2000
# Finished scopes waiting for the writer. Small on purpose: when the writer falls behind,
# workers wait rather than pile up listings in memory.
PENDING_SCOPES = 16


async def fan_out(run: Run, accounts: Sequence[AccountInfo]) -> None:
    """List every scope of `accounts` and write each as it completes."""
    settings = run.settings
    shard = None if settings.shard is None else str(settings.shard)
    scopes = listing_order(
        [Scope(a.account_id, r) for a in accounts if a.collect for r in a.regions],
        await run.store.paged_scopes(shard),
    )
    lister = _ScopeLister(run, OptInEvidence(scopes), await prepare_listings(run, accounts))
    if run.observer is not None:
        run.observer.planned(len(scopes))
    send, receive = anyio.create_memory_object_stream[ScopeOutcome](
        min(PENDING_SCOPES, settings.concurrency)
    )
    # A fixed pool of workers pulling from one queue of scopes, rather than a task per scope:
    # 16,000 waiting tasks cost memory, and a worker that finishes a scope hands it to the
    # writer before taking the next, so listings never pile up behind a slow writer.
    pending = iter(scopes)

    async def work() -> None:
        for scope in pending:
            outcome = await lister.contained(scope)
            lister.evidence.finished(outcome)
            await send.send(outcome)

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_write_all, run, receive)
            async with send, anyio.create_task_group() as workers:
                for _ in range(min(settings.concurrency, len(scopes))):
                    workers.start_soon(work)
    except BaseExceptionGroup as group_error:
        raise unwrap_group(group_error) from None


class _ScopeLister:
    """Lists one scope at a time, for the workers of one run."""

    def __init__(self, run: Run, evidence: OptInEvidence, plans: list[ListingPlan]) -> None:
        self.run = run
        self.evidence = evidence
        self.plans = plans

    async def contained(self, scope: Scope) -> ScopeOutcome:
        """List one scope; whatever goes wrong fails that scope only, never the run."""
        started = self.run.now()
        try:
            return await self._listed(scope)
        except Exception as exc:
            # Not weather but a bug, or data nothing foresaw: one scope's worth, logged once.
            log.error(
                "scope %s: internal error %s: %s", scope, type(exc).__name__, exc, exc_info=True
            )
            error = AwsError(ErrorKind.INTERNAL_ERROR, type(exc).__name__, str(exc)[:500])
            outcome = ScopeOutcome.failed_before_listing(scope, error, self.run.now())
            outcome.started_at = started
            return outcome

    async def _listed(self, scope: Scope) -> ScopeOutcome:
        aws = self.run.aws
        try:
            credentials = await aws.credentials.for_account(scope.account_id)
        except AwsError as error:
            return ScopeOutcome.failed_before_listing(scope, error, self.run.now())
        client = await aws.clients.appflow(scope.region)
        with acting_as(credentials), aws.clients.scope_budget():
            outcome = await list_resources(client, scope, self.plans, self.run.now)
        if any(listing.error_code == ErrorKind.TOO_LARGE for listing in outcome.listings.values()):
            return _too_large(outcome)
        if scope.region in aws.catalog.unlisted:
            outcome = unreachable_verdict(outcome)
        if is_opt_in(scope.region) and refused_as_unknown_token(outcome):
            return await opt_in_verdict(aws, self.evidence, outcome, credentials)
        return outcome


async def _write_all(run: Run, receive: MemoryObjectReceiveStream[ScopeOutcome]) -> None:
    result, observer = run.result, run.observer
    async with receive:
        async for first in receive:
            batch = [first]
            records = first.items
            while len(batch) < WRITE_BATCH and records < WRITE_BATCH_RECORDS:
                try:
                    batch.append(receive.receive_nowait())
                except (anyio.WouldBlock, anyio.EndOfStream):
                    break
                records += batch[-1].items
            # A batch in hand is written to the end even if the run is being stopped: its
            # scopes are complete, and a transaction cut mid-way would hold SQLite's lock.
            with anyio.CancelScope(shield=True):
                written = await _write_batch(run.store, result.run_id, batch)
            for outcome, change in written:
                result.tally(outcome, change)
                _log_scope(result.run_id, outcome)
                if observer is not None:
                    observer.finished(outcome)


async def _write_batch(
    store: Store, run_id: str, batch: list[ScopeOutcome]
) -> list[tuple[ScopeOutcome, dict[Resource, ScopeChanges]]]:
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
                resource: listing.refused(message) for resource, listing in refused.listings.items()
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
    }
    for resource, listing in outcome.listings.items():
        fields[resource.name] = len(listing.records)
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
    error = AwsError(ErrorKind.TOO_LARGE, "ScopeTooLarge", message)
    listings = {resource: listing.dropped(error) for resource, listing in outcome.listings.items()}
    return ScopeOutcome.of(outcome.scope, outcome.started_at, outcome.finished_at, listings)
