"""One collection pass: fan out over (account, region) scopes, write each as it completes.

Workers list scopes concurrently under one limit and hand outcomes to a single writer
through a bounded stream, so memory stays bounded and the database sees one writer.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream
from sqlalchemy.exc import SQLAlchemyError

from ._accounts import resolve_accounts
from ._aws import AwsClients, AwsOptions, acting_as
from ._database import create_engine, redact, upgrade
from ._errors import AwsError, CollectorError, DatabaseError, ErrorKind
from ._listing import ListingFilter, list_scope
from ._regions import OPT_IN_APPFLOW_REGIONS
from ._retry import RetryPolicy
from ._scopes import Scope, ScopeChanges, ScopeOutcome, ScopeStatus
from ._settings import Settings
from ._store import Store

log = logging.getLogger("collector")
T = TypeVar("T")

# Scopes written per transaction. Each scope stays atomic; grouping saves a commit per scope.
WRITE_BATCH = 64


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
        return 0 if self.status == "succeeded" else 1

    def tally(self, outcome: ScopeOutcome, changes: ScopeChanges) -> None:
        self.scopes[outcome.status.value] += 1
        self.profiles_seen += len(outcome.records)
        self.requests += outcome.attempts
        self.retries += outcome.retries
        for kind in ("created", "updated", "deleted", "restored"):
            self.changes[kind] += getattr(changes, kind)
        if outcome.status is ScopeStatus.FAILED:
            self.failures.append(outcome)

    def finish(self) -> None:
        self.finished_at = utcnow()
        if self.error is not None or (
            self.scopes[ScopeStatus.FAILED] and not self.scopes[ScopeStatus.SUCCEEDED]
        ):
            self.status = "failed"
        elif self.scopes[ScopeStatus.FAILED]:
            self.status = "partial"
        else:
            self.status = "succeeded"


async def run_collection(
    settings: Settings,
    *,
    retry: RetryPolicy | None = None,
    now: Callable[[], datetime] = utcnow,
) -> RunResult:
    """Run one collection pass and record it. Raises `DatabaseError` or `ConfigError`."""
    retry = retry or RetryPolicy(max_attempts=settings.max_attempts)
    engine = create_engine(settings.database_url)
    try:
        await _guard_db(settings, upgrade(engine))
        store = Store(engine)
        result = RunResult(run_id=str(uuid.uuid4()), started_at=now())
        await _guard_db(
            settings, store.begin_run(result.run_id, result.started_at, filtered=settings.filtered)
        )
        await _collect(settings, store, result, retry, now)
        result.finish()
        await _guard_db(
            settings,
            store.finish_run(
                result.run_id,
                finished_at=result.finished_at,
                status=result.status,
                scopes_total=sum(result.scopes.values()),
                scopes_succeeded=result.scopes[ScopeStatus.SUCCEEDED],
                scopes_failed=result.scopes[ScopeStatus.FAILED],
                scopes_skipped=result.scopes[ScopeStatus.SKIPPED],
                profiles_seen=result.profiles_seen,
                profiles_created=result.changes["created"],
                profiles_updated=result.changes["updated"],
                profiles_deleted=result.changes["deleted"],
                profiles_restored=result.changes["restored"],
                requests=result.requests,
                retries=result.retries,
                error_message=result.error,
            ),
        )
        return result
    finally:
        await engine.dispose()


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
        scopes = [Scope(a.account_id, r) for a in accounts if a.collect for r in settings.regions]
        listing_filter = ListingFilter(
            connector_type=settings.connector_type, profile_names=settings.profile_name
        )
        await _fan_out(settings, aws, store, result, retry, now, scopes, listing_filter)
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
) -> None:
    limiter = anyio.CapacityLimiter(settings.concurrency)
    send, receive = anyio.create_memory_object_stream[ScopeOutcome](settings.concurrency)

    async def collect(scope: Scope) -> None:
        async with limiter:
            try:
                credentials = await aws.account_credentials(scope.account_id)
                outcome = await _skip_if_disabled(aws, scope, credentials, now)
            except AwsError as error:
                outcome = _failed(scope, error, now())
            if outcome is None:
                client = await aws.appflow(scope.region)
                with acting_as(credentials):
                    outcome = await list_scope(client, scope, listing_filter, retry, now)
        if outcome.status is ScopeStatus.FAILED:
            log.warning("scope %s failed: %s: %s", scope, outcome.error_code, outcome.error_message)
        await send.send(outcome)

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_write_all, settings, store, result, receive)
            async with send, anyio.create_task_group() as workers:
                for scope in scopes:
                    workers.start_soon(collect, scope)
    except BaseExceptionGroup as group_error:
        raise _sole_cause(group_error) from None


async def _write_all(
    settings: Settings,
    store: Store,
    result: RunResult,
    receive: MemoryObjectReceiveStream[ScopeOutcome],
) -> None:
    async with receive:
        async for first in receive:
            batch = [first]
            while len(batch) < WRITE_BATCH:
                try:
                    batch.append(receive.receive_nowait())
                except (anyio.WouldBlock, anyio.EndOfStream):
                    break
            changes = await _guard_db(settings, store.write_scopes(result.run_id, batch))
            for outcome, change in zip(batch, changes, strict=True):
                result.tally(outcome, change)


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


def _sole_cause(group: BaseExceptionGroup[BaseException]) -> BaseException:
    # Surface our own errors (database, configuration) rather than the group wrapping them.
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _sole_cause(exc)
        if isinstance(exc, CollectorError):
            return exc
    return group.exceptions[0]


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
