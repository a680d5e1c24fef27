"""One collection pass: fan out over (account, region) scopes, write each as it completes.

Workers list scopes concurrently under one limit and hand outcomes to a single writer
through a bounded stream, so memory stays bounded and the database sees one writer.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError

from ._accounts import resolve_accounts
from ._aws import AwsClients, AwsOptions, acting_as
from ._database import create_engine, redact, upgrade
from ._errors import AwsError, CollectorError, DatabaseError, ErrorKind, unwrap_group
from ._listing import ListingFilter, list_scope
from ._lock import run_lock
from ._metrics import render_metrics, write_atomically
from ._regions import OPT_IN_APPFLOW_REGIONS
from ._retry import RetryPolicy
from ._scopes import Scope, ScopeChanges, ScopeOutcome, ScopeStatus, shard_of
from ._settings import Settings, parse_shard
from ._store import Store

log = logging.getLogger("collector")
# Per-scope events: quiet in text logs unless verbose, every one in JSON logs.
scope_log = logging.getLogger("collector.scope")
T = TypeVar("T")

EXIT_INTERRUPTED = 4

# Scopes written per transaction. Each scope stays atomic; grouping saves a commit per scope.
WRITE_BATCH = 64
# ...and at most this many profiles, so a batch of large scopes stays small in memory.
WRITE_BATCH_PROFILES = 2000
# Finished scopes waiting for the writer. Small on purpose: when the writer falls behind,
# workers wait rather than pile up listings in memory.
PENDING_SCOPES = 16


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class RunResult:
    """What a run did; `exit_code` is the process's."""

    run_id: str
    status: str = "running"
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    scopes: Counter[str] = field(default_factory=Counter)
    changes: Counter[str] = field(default_factory=Counter)
    profiles_seen: int = 0
    requests: int = 0
    retries: int = 0
    failures: list[ScopeOutcome] = field(default_factory=list)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return {"succeeded": 0, "interrupted": EXIT_INTERRUPTED}.get(self.status, 1)

    def tally(self, outcome: ScopeOutcome, changes: ScopeChanges) -> None:
        self.scopes[outcome.status.value] += 1
        self.profiles_seen += len(outcome.records)
        self.requests += outcome.attempts
        self.retries += outcome.retries
        for kind in ("created", "updated", "deleted", "restored"):
            self.changes[kind] += getattr(changes, kind)
        if outcome.status is ScopeStatus.FAILED:
            self.failures.append(outcome)

    def finish(self, interruption: str | None = None) -> None:
        self.finished_at = utcnow()
        if interruption is not None:
            self.status = "interrupted"
            self.error = interruption
        elif self.error is not None or (
            self.scopes[ScopeStatus.FAILED] and not self.scopes[ScopeStatus.SUCCEEDED]
        ):
            self.status = "failed"
        elif self.scopes[ScopeStatus.FAILED]:
            self.status = "partial"
        else:
            self.status = "succeeded"


class RunObserver(Protocol):
    """Told about a run's progress, e.g. to draw a progress line."""

    def planned(self, scopes: int) -> None: ...

    def finished(self, outcome: ScopeOutcome) -> None: ...


async def run_collection(
    settings: Settings,
    *,
    retry: RetryPolicy | None = None,
    now: Callable[[], datetime] = utcnow,
    stop: anyio.Event | None = None,
    observer: RunObserver | None = None,
) -> RunResult:
    """Run one collection pass and record it. Raises `DatabaseError` or `ConfigError`.

    Setting `stop` (e.g. on SIGTERM) or reaching `settings.deadline` ends the run early: scopes
    already written stay, the rest are abandoned, and the run is recorded as `interrupted`.
    """
    retry = retry or RetryPolicy(max_attempts=settings.max_attempts)
    engine = create_engine(settings.database_url)
    try:
        async with _guarded(settings, run_lock(engine, _lock_name(settings))):
            await _guard_db(settings, upgrade(engine))
            store = Store(engine)
            result = RunResult(run_id=str(uuid.uuid4()), started_at=now())
            await _guard_db(
                settings,
                store.begin_run(
                    result.run_id,
                    result.started_at,
                    filtered=settings.filtered,
                    run_label=settings.run_label,
                    shard=settings.shard,
                ),
            )
            try:
                interruption = await _collect_until_stopped(
                    settings, store, result, retry, now, stop, observer
                )
            except CollectorError as error:
                await _record_failure(settings, store, result, error)
                raise
            result.finish(interruption)
            with anyio.CancelScope(shield=True):
                await _guard_db(settings, store.finish_run(result.run_id, **_run_row(result)))
                if settings.metrics_file:
                    await _write_metrics(settings, store, result)
            return result
    finally:
        with anyio.CancelScope(shield=True):
            await engine.dispose()


async def _record_failure(
    settings: Settings, store: Store, result: RunResult, error: CollectorError
) -> None:
    """Close the run's row as failed, so no run is left `running` by an error we raise."""
    result.error = str(error)
    result.finish()
    result.status = "failed"
    with anyio.CancelScope(shield=True):
        try:
            await store.finish_run(result.run_id, **_run_row(result))
        except (SQLAlchemyError, OSError):
            log.debug("could not record the failed run", exc_info=True)


def _lock_name(settings: Settings) -> str:
    if settings.shard is None:
        return "run"
    index, count = parse_shard(settings.shard)
    return f"run-shard-{index}-of-{count}"


@asynccontextmanager
async def _guarded(settings: Settings, manager: AbstractAsyncContextManager[T]) -> AsyncIterator[T]:
    try:
        entered = await manager.__aenter__()
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseError(f"database {redact(settings.database_url)}: {_one_line(exc)}") from exc
    try:
        yield entered
    except BaseException as exc:
        if not await _exit_guarded(settings, manager, exc):
            raise
    else:
        await _exit_guarded(settings, manager, None)


async def _exit_guarded(
    settings: Settings, manager: AbstractAsyncContextManager[Any], exc: BaseException | None
) -> bool | None:
    try:
        if exc is None:
            return await manager.__aexit__(None, None, None)
        return await manager.__aexit__(type(exc), exc, exc.__traceback__)
    except (SQLAlchemyError, OSError) as error:
        if isinstance(exc, CollectorError):
            raise exc from None  # the first error is the one to report
        raise DatabaseError(
            f"database {redact(settings.database_url)}: {_one_line(error)}"
        ) from error


async def _collect_until_stopped(
    settings: Settings,
    store: Store,
    result: RunResult,
    retry: RetryPolicy,
    now: Callable[[], datetime],
    stop: anyio.Event | None,
    observer: RunObserver | None,
) -> str | None:
    """Collect; return why the run was cut short, or None if it ran to the end."""
    stopped_by = ""
    with anyio.CancelScope() as scope:
        if settings.deadline is not None:
            scope.deadline = anyio.current_time() + settings.deadline
        async with anyio.create_task_group() as group:
            if stop is not None:

                async def watch() -> None:
                    nonlocal stopped_by
                    await stop.wait()
                    stopped_by = "stopped by a signal"
                    scope.cancel()

                group.start_soon(watch)
            await _collect(settings, store, result, retry, now, observer)
            group.cancel_scope.cancel()
    if not scope.cancelled_caught:
        return None
    return stopped_by or f"deadline of {settings.deadline:g}s reached"


def _run_row(result: RunResult) -> dict[str, Any]:
    return {
        "finished_at": result.finished_at,
        "status": result.status,
        "scopes_total": sum(result.scopes.values()),
        "scopes_succeeded": result.scopes[ScopeStatus.SUCCEEDED],
        "scopes_failed": result.scopes[ScopeStatus.FAILED],
        "scopes_skipped": result.scopes[ScopeStatus.SKIPPED],
        "profiles_seen": result.profiles_seen,
        "profiles_created": result.changes["created"],
        "profiles_updated": result.changes["updated"],
        "profiles_deleted": result.changes["deleted"],
        "profiles_restored": result.changes["restored"],
        "requests": result.requests,
        "retries": result.retries,
        "error_message": result.error,
    }


async def _write_metrics(settings: Settings, store: Store, result: RunResult) -> None:
    assert settings.metrics_file is not None
    assert result.finished_at is not None
    labels = {"shard": settings.shard} if settings.shard else {}
    text = render_metrics(
        status=result.status,
        duration=(result.finished_at - result.started_at).total_seconds(),
        scopes=dict(result.scopes),
        profiles=result.profiles_seen,
        changes=dict(result.changes),
        requests=result.requests,
        retries=result.retries,
        failures_by_code=dict(Counter(str(o.error_code) for o in result.failures)),
        last_success=await _guard_db(settings, store.last_success(settings.shard)),
        labels=labels,
    )
    try:
        write_atomically(Path(settings.metrics_file), text)
    except OSError as exc:
        log.error("cannot write metrics file %s: %s", settings.metrics_file, exc.strerror)


async def _guard_db(settings: Settings, operation: Awaitable[T]) -> T:
    try:
        return await operation
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseError(f"database {redact(settings.database_url)}: {_one_line(exc)}") from exc


async def _collect(
    settings: Settings,
    store: Store,
    result: RunResult,
    retry: RetryPolicy,
    now: Callable[[], datetime],
    observer: RunObserver | None,
) -> None:
    options = AwsOptions(
        role_name=settings.role_name,
        external_id=settings.external_id,
        concurrency=settings.concurrency,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    async with AwsClients(options, retry) as aws:
        try:
            accounts = await resolve_accounts(settings, aws, retry)
        except AwsError as error:
            result.error = str(error)
            log.error("%s", error)
            return
        if settings.shard is not None:
            index, count = parse_shard(settings.shard)
            accounts = [a for a in accounts if shard_of(a.account_id, count) == index]
        seen_at = now()
        await _guard_db(
            settings,
            store.record_accounts(
                [
                    {
                        "account_id": a.account_id,
                        "name": a.name,
                        "email": a.email,
                        "state": a.state,
                        "source": a.source,
                        "last_seen_at": seen_at,
                    }
                    for a in accounts
                ]
            ),
        )
        scopes = [Scope(a.account_id, r) for a in accounts if a.collect for r in a.regions]
        listing_filter = ListingFilter(
            connector_type=settings.connector_type, profile_names=settings.profile_name
        )
        if observer is not None:
            observer.planned(len(scopes))
        await _fan_out(settings, aws, store, result, retry, now, scopes, listing_filter, observer)
        result.requests += aws.control_attempts.attempts
        result.retries += aws.control_attempts.retries


async def _fan_out(
    settings: Settings,
    aws: AwsClients,
    store: Store,
    result: RunResult,
    retry: RetryPolicy,
    now: Callable[[], datetime],
    scopes: Sequence[Scope],
    listing_filter: ListingFilter,
    observer: RunObserver | None,
) -> None:
    send, receive = anyio.create_memory_object_stream[ScopeOutcome](
        min(PENDING_SCOPES, settings.concurrency)
    )
    # A fixed pool of workers pulling from one queue of scopes, rather than a task per scope:
    # 16,000 waiting tasks cost memory, and a worker that finishes a scope hands it to the
    # writer before taking the next, so listings never pile up behind a slow writer.
    pending = iter(scopes)

    async def work() -> None:
        for scope in pending:
            await send.send(await _collect_scope(aws, scope, listing_filter, retry, now))

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_write_all, settings, store, result, receive, observer)
            async with send, anyio.create_task_group() as workers:
                for _ in range(min(settings.concurrency, len(scopes))):
                    workers.start_soon(work)
    except BaseExceptionGroup as group_error:
        raise unwrap_group(group_error) from None


async def _collect_scope(
    aws: AwsClients,
    scope: Scope,
    listing_filter: ListingFilter,
    retry: RetryPolicy,
    now: Callable[[], datetime],
) -> ScopeOutcome:
    try:
        credentials = await aws.account_credentials(scope.account_id)
        outcome = await _skip_if_disabled(aws, scope, credentials, now)
    except AwsError as error:
        return _failed(scope, error, now())
    if outcome is not None:
        return outcome
    client = await aws.appflow(scope.region)
    with acting_as(credentials):
        return await list_scope(client, scope, listing_filter, retry, now)


async def _write_all(
    settings: Settings,
    store: Store,
    result: RunResult,
    receive: MemoryObjectReceiveStream[ScopeOutcome],
    observer: RunObserver | None,
) -> None:
    async with receive:
        async for first in receive:
            batch = [first]
            profiles = len(first.records)
            while len(batch) < WRITE_BATCH and profiles < WRITE_BATCH_PROFILES:
                try:
                    batch.append(receive.receive_nowait())
                except (anyio.WouldBlock, anyio.EndOfStream):
                    break
                profiles += len(batch[-1].records)
            # A batch in hand is written to the end even if the run is being stopped: its
            # scopes are complete, and a transaction cut mid-way would hold SQLite's lock.
            with anyio.CancelScope(shield=True):
                written = await _guard_db(settings, _write_batch(store, result.run_id, batch))
            for outcome, change in written:
                result.tally(outcome, change)
                _log_scope(result.run_id, outcome)
                if observer is not None:
                    observer.finished(outcome)


async def _write_batch(
    store: Store, run_id: str, batch: list[ScopeOutcome]
) -> list[tuple[ScopeOutcome, ScopeChanges]]:
    """Write a batch; if the database refuses some scope's data, fail only that scope.

    A value the database cannot hold (say, a field longer than a column) must not cost the
    other scopes of the batch, nor end the run. The refused scope is recorded as failed
    with nothing written, so it cannot delete anything either.
    """
    try:
        return list(zip(batch, await store.write_scopes(run_id, batch), strict=True))
    except DBAPIError as error:
        if not _refused_data(error):
            raise
        if len(batch) > 1:
            return [pair for one in batch for pair in await _write_batch(store, run_id, [one])]
        refused = batch[0]
        log.warning("scope %s: the database refused its data: %s", refused.scope, _one_line(error))
        failed = ScopeOutcome(
            refused.scope,
            ScopeStatus.FAILED,
            started_at=refused.started_at,
            finished_at=refused.finished_at,
            pages=refused.pages,
            attempts=refused.attempts,
            retries=refused.retries,
            error_code=ErrorKind.INVALID_RESPONSE.value,
            aws_error_code="UnstorableData",
            error_message=f"the database refused this scope's data: {_one_line(error)}",
        )
        return list(zip([failed], await store.write_scopes(run_id, [failed]), strict=True))


def _refused_data(error: DBAPIError) -> bool:
    """Whether the database refused the values (SQLSTATE 22/23), rather than failed itself."""
    if isinstance(error, DataError | IntegrityError):
        return True
    # asyncpg's data exceptions reach SQLAlchemy as generic DBAPI errors; their SQLSTATE says.
    cause = error.orig.__cause__ if error.orig is not None else None
    return str(getattr(cause, "sqlstate", "")).startswith(("22", "23"))


async def _skip_if_disabled(
    aws: AwsClients, scope: Scope, credentials: Any, now: Callable[[], datetime]
) -> ScopeOutcome | None:
    """A `skipped` outcome if the scope's region is an opt-in region the account has not
    enabled; None if it should be listed. If the look-up itself fails (say the role may
    not call ec2:DescribeRegions), the listing goes ahead and speaks for itself."""
    if scope.region not in OPT_IN_APPFLOW_REGIONS:
        return None
    try:
        status = (await aws.region_opt_in_status(scope.account_id, credentials)).get(scope.region)
    except AwsError as error:
        log.debug("cannot look up regions of %s: %s", scope.account_id, error)
        return None
    if status != "not-opted-in":
        return None
    at = now()
    return ScopeOutcome(
        scope,
        ScopeStatus.SKIPPED,
        started_at=at,
        finished_at=at,
        error_code=ErrorKind.REGION_NOT_ENABLED.value,
        error_message=f"{scope.region} is an opt-in region this account has not enabled",
    )


def _log_scope(run_id: str, outcome: ScopeOutcome) -> None:
    fields = {
        "event": f"scope_{outcome.status.value}",
        "run_id": run_id,
        "account": outcome.scope.account_id,
        "region": outcome.scope.region,
        "duration": round((outcome.finished_at - outcome.started_at).total_seconds(), 3),
        "attempts": outcome.attempts,
        "pages": outcome.pages,
        "profiles": len(outcome.records),
    }
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


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
