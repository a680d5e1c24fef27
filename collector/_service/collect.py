"""One collection pass: check AWS, lock, migrate, record the run, collect, record the end.

Raises `DatabaseError` (exit 3) or `ConfigError` (exit 2); every AWS failure is contained in
its scope. Library exceptions never reach this module: the adapters translate their own.
AWS is checked first (credentials, partition, regions), so a run that cannot start for an
AWS reason leaves no row in `collection_runs`.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import anyio

from .._aws import AwsClients, AwsOptions, RetryPolicy
from .._config import Settings
from .._errors import AwsError, CollectorError
from .._model.run import RunResult
from .._model.scopes import ScopeStatus
from .._store import Store, open_engine, run_lock, upgrade
from .accounts import resolve_accounts
from .fanout import RunObserver, fan_out

log = logging.getLogger("collector")

__all__ = ["RunObserver", "run_collection"]


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    The deadline counts from here: the checks before listing (STS, the database, the locks)
    spend it too.
    """
    retry = retry or RetryPolicy(max_attempts=settings.max_attempts)
    deadline = math.inf if settings.deadline is None else anyio.current_time() + settings.deadline
    async with AwsClients(_aws_options(settings), retry) as aws:
        settings = _checked_against_aws(settings, aws)
        return await _record_run(settings, aws, retry, now, stop, observer, deadline)


def _aws_options(settings: Settings) -> AwsOptions:
    named = [r for r in settings.regions if r != "all"]
    named += [r for _, regions in settings.account_regions for r in regions if r != "all"]
    return AwsOptions(
        role_name=settings.role_name,
        external_id=settings.external_id,
        concurrency=settings.concurrency,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        home_region=next((r for r in named if not AwsClients.is_opt_in(r)), None),
        organization_role_arn=settings.organization_role_arn,
        account_rate=settings.account_rate,
        scope_budget=settings.scope_budget_mib * 1024 * 1024,
    )


def _checked_against_aws(settings: Settings, aws: AwsClients) -> Settings:
    """`settings` with `all` expanded to the partition's regions, every region checked."""
    if settings.connector_type is not None:
        hint = aws.connector_type_hint(settings.connector_type)
        if hint is not None:
            log.warning(
                "connector type %r is not one the AppFlow API model knows%s; sending it as given",
                settings.connector_type,
                f" (did you mean {hint!r}?)" if hint else "",
            )
    return replace(
        settings,
        regions=aws.resolve_regions(settings.regions),
        account_regions=tuple(
            (account, aws.resolve_regions(regions, f"account_regions {account}"))
            for account, regions in settings.account_regions
        ),
    )


async def _record_run(
    settings: Settings,
    aws: AwsClients,
    retry: RetryPolicy,
    now: Callable[[], datetime],
    stop: anyio.Event | None,
    observer: RunObserver | None,
    deadline: float,
) -> RunResult:
    lock_name = "run" if settings.shard is None else settings.shard.lock_name
    shard = None if settings.shard is None else str(settings.shard)
    async with (
        open_engine(settings.database_url, settings.schema) as engine,
        run_lock(engine, lock_name),
    ):
        await upgrade(engine)
        store = Store(engine)
        result = RunResult(run_id=str(uuid.uuid4()), started_at=now())
        await store.begin_run(
            result.run_id,
            result.started_at,
            filtered=settings.filtered,
            run_label=settings.run_label,
            shard=shard,
            resources=",".join(settings.listed_resources),
        )
        try:
            interruption = await _collect_until_stopped(
                settings, aws, store, result, retry, now, stop, observer, deadline
            )
        except CollectorError as error:
            await _record_failure(store, result, error, now())
            raise
        result.finish(now(), interruption=interruption)
        with anyio.CancelScope(shield=True):
            await store.finish_run(result.run_id, **_run_row(result))
            if settings.metrics_file or settings.pushgateway_url:
                result.last_success = await store.last_success(shard)
        return result


async def _record_failure(
    store: Store, result: RunResult, error: CollectorError, at: datetime
) -> None:
    """Close the run's row as failed, so no run is left `running` by an error we raise."""
    result.finish(at, failure=str(error))
    with anyio.CancelScope(shield=True):
        try:
            await store.finish_run(result.run_id, **_run_row(result))
        except CollectorError:
            log.debug("could not record the failed run", exc_info=True)


async def _collect_until_stopped(
    settings: Settings,
    aws: AwsClients,
    store: Store,
    result: RunResult,
    retry: RetryPolicy,
    now: Callable[[], datetime],
    stop: anyio.Event | None,
    observer: RunObserver | None,
    deadline: float,
) -> str | None:
    """Collect until the end or `deadline` (anyio's clock); return why the run was cut
    short, or None if it ran to the end."""
    stopped_by = ""
    with anyio.CancelScope(deadline=deadline) as scope:
        async with anyio.create_task_group() as group:
            if stop is not None:

                async def watch() -> None:
                    nonlocal stopped_by
                    await stop.wait()
                    stopped_by = "stopped by a signal"
                    scope.cancel()

                group.start_soon(watch)
            await _collect(settings, aws, store, result, retry, now, observer)
            group.cancel_scope.cancel()
    if not scope.cancelled_caught:
        return None
    return stopped_by or f"deadline of {settings.deadline:g}s reached"


async def _collect(
    settings: Settings,
    aws: AwsClients,
    store: Store,
    result: RunResult,
    retry: RetryPolicy,
    now: Callable[[], datetime],
    observer: RunObserver | None,
) -> None:
    try:
        accounts = await resolve_accounts(settings, aws)
    except AwsError as error:
        result.error = str(error)
        log.error("%s", error)
        return
    finally:
        result.requests += aws.control_attempts.attempts
        result.retries += aws.control_attempts.retries
        aws.control_attempts.attempts = aws.control_attempts.retries = 0
    if settings.shard is not None:
        accounts = [a for a in accounts if settings.shard.owns(a.account_id)]
    seen_at = now()
    await store.record_accounts(
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
    )
    await fan_out(settings, aws, store, result, retry, now, accounts, observer)
    result.requests += aws.control_attempts.attempts
    result.retries += aws.control_attempts.retries


def _run_row(result: RunResult) -> dict[str, object]:
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
        "flows_seen": result.flows_seen,
        "flows_created": result.flow_changes["created"],
        "flows_updated": result.flow_changes["updated"],
        "flows_deleted": result.flow_changes["deleted"],
        "flows_restored": result.flow_changes["restored"],
        "requests": result.requests,
        "retries": result.retries,
        "error_message": result.error,
    }
