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

from .._aws import Aws, AwsOptions, RetryPolicy, open_aws
from .._config import Settings
from .._errors import AwsError, CollectorError, DatabaseUnavailableError
from .._model.organization import CLOSED, departures
from .._model.regions import is_opt_in
from .._model.run import RunResult
from .._store import Patience, Store, open_engine, run_lock, upgrade
from .accounts import Discovery, resolve_accounts
from .context import Run, RunObserver
from .fanout import fan_out

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
    async with open_aws(_aws_options(settings), retry) as aws:
        settings = _checked_against_aws(settings, aws)
        lock_name = "run" if settings.shard is None else settings.shard.lock_name
        async with (
            open_engine(settings.database_url, settings.schema) as engine,
            run_lock(engine, lock_name) as lock,
        ):
            await upgrade(engine)
            result = RunResult(
                run_id=str(uuid.uuid4()),
                started_at=now(),
                resources=settings.listed_resources,
            )
            # Patience 0 fails fast: the first statement the database does not answer ends
            # the run, with nothing logged about waiting.
            patience = Patience(settings.database_patience) if settings.database_patience else None
            store = Store(engine, patience, lock.ensure)
            run = Run(settings, aws, store, result, now, observer)
            return await _record_run(run, stop, deadline)


def _aws_options(settings: Settings) -> AwsOptions:
    named = [r for r in settings.regions if r != "all"]
    named += [r for _, regions in settings.account_regions for r in regions if r != "all"]
    return AwsOptions(
        role_name=settings.role_name,
        external_id=settings.external_id,
        concurrency=settings.concurrency,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        home_region=next((r for r in named if not is_opt_in(r)), None),
        organization_role_arn=settings.organization_role_arn,
        account_rate=settings.account_rate,
        scope_budget=settings.scope_budget_mib * 1024 * 1024,
        caller_credentials=not settings.no_caller_credentials,
    )


def _checked_against_aws(settings: Settings, aws: Aws) -> Settings:
    """`settings` with `all` expanded to the partition's regions, every region checked."""
    if settings.connector_type is not None:
        hint = aws.catalog.connector_type_hint(settings.connector_type)
        if hint is not None:
            log.warning(
                "connector type %r is not one the AppFlow API model knows%s; sending it as given",
                settings.connector_type,
                f" (did you mean {hint!r}?)" if hint else "",
            )
    catalog = aws.catalog
    return replace(
        settings,
        regions=catalog.resolve_regions(settings.regions),
        account_regions=tuple(
            (account, catalog.resolve_regions(regions, f"account_regions {account}"))
            for account, regions in settings.account_regions
        ),
    )


async def _record_run(run: Run, stop: anyio.Event | None, deadline: float) -> RunResult:
    settings, result, store = run.settings, run.result, run.store
    await store.begin_run(
        result,
        filtered=settings.filtered,
        run_label=settings.run_label,
        shard=None if settings.shard is None else str(settings.shard),
    )
    try:
        interruption = await _collect_until_stopped(run, stop, deadline)
    except CollectorError as error:
        await _record_failure(run, error)
        raise
    result.finish(run.now(), interruption=interruption)
    with anyio.CancelScope(shield=True):
        await store.finish_run(result)
        if settings.metrics_file or settings.pushgateway_url:
            shard = None if settings.shard is None else str(settings.shard)
            result.last_success = await store.last_success(shard)
    return result


async def _record_failure(run: Run, error: CollectorError) -> None:
    """Close the run's row as failed, so no run is left `running` by an error we raise. A
    database still away after its patience is not waited for again: the next run closes the
    row."""
    run.result.finish(run.now(), failure=str(error))
    if isinstance(error, DatabaseUnavailableError):
        return
    with anyio.CancelScope(shield=True):
        try:
            await run.store.finish_run(run.result)
        except CollectorError:
            log.debug("could not record the failed run", exc_info=True)


async def _collect_until_stopped(run: Run, stop: anyio.Event | None, deadline: float) -> str | None:
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
            await _collect(run)
            group.cancel_scope.cancel()
    if not scope.cancelled_caught:
        return None
    return stopped_by or f"deadline of {run.settings.deadline:g}s reached"


async def _collect(run: Run) -> None:
    settings, aws, result = run.settings, run.aws, run.result
    try:
        discovery = await resolve_accounts(settings, aws)
    except AwsError as error:
        result.error = str(error)
        log.error("%s", error)
        return
    finally:
        _count_control_calls(run)
    shard = settings.shard
    accounts = [a for a in discovery.accounts if shard is None or shard.owns(a.account_id)]
    seen_at = run.now()
    await run.store.record_accounts(
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
    if discovery.organization is not None:
        await _retire_departed(run, discovery)
    await fan_out(run, accounts)
    _count_control_calls(run)


async def _retire_departed(run: Run, discovery: Discovery) -> None:
    """Mark deleted what the accounts that closed or left the organization held (this
    shard's), with why."""
    assert discovery.organization is not None
    shard = run.settings.shard
    gone = departures(
        discovery.accounts,
        await run.store.member_accounts(),
        discovery.organization,
        owned=(lambda _: True) if shard is None else shard.owns,
    )
    retired = await run.store.retire_accounts(run.result.run_id, gone, run.now())
    for resource, count in retired.items():
        run.result.count(resource)["deleted"] += count
    for account_id, reason in sorted(gone.items()):
        log.info(
            "account %s: %s; what it held is marked deleted",
            account_id,
            "closed" if reason == CLOSED else "no longer in the organization",
            extra={"event": reason, "account": account_id},
        )


def _count_control_calls(run: Run) -> None:
    """Move the attempts made around the listings (STS, Organizations, EC2) into the run's
    counts."""
    counter = run.aws.control_attempts
    run.result.requests += counter.attempts
    run.result.retries += counter.retries
    counter.attempts = counter.retries = 0
