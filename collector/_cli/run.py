"""`collector run`: one collection pass, stopped cleanly by SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio

from .._config import Settings, load_settings, pushgateway_authorization
from .._errors import unwrap_group
from .._model.run import RunResult
from .._service import run_collection
from .flags import given_flags
from .metrics import push, run_registry, write_textfile
from .output import Progress, configure_logging
from .render import format_summary

log = logging.getLogger("collector")


def run_run(args: argparse.Namespace) -> int:
    settings = load_settings(given_flags(args))
    configure_logging(settings.log_format, args.verbose, debug_aws=args.debug_aws)
    started = time.monotonic()
    progress = Progress()
    try:
        with _tuned_garbage_collection():
            result = anyio.run(_run_until_signalled, settings, progress)
    finally:
        progress.close()
    if settings.metrics_file or settings.pushgateway_url:
        _export_metrics(settings, result)
    print(format_summary(result, time.monotonic() - started))
    return result.exit_code


@contextmanager
def _tuned_garbage_collection() -> Iterator[None]:
    # A run allocates millions of short-lived objects (requests, rows) on top of a large,
    # long-lived heap of modules and service models: freezing that heap keeps the collector
    # from scanning it again and again, and collecting less often costs a few megabytes.
    # Memory stays bounded by the concurrency either way (docs/performance.md). Undone
    # afterwards, so a process that runs the collector more than once (tests, an embedding
    # program) gets its frozen objects back to collect.
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


async def _run_until_signalled(settings: Settings, progress: Progress) -> RunResult:
    """Run once; SIGTERM or SIGINT stops the run cleanly instead of killing it mid-write."""
    stop = anyio.Event()
    try:
        return await _run_with_stop(settings, progress, stop)
    except BaseExceptionGroup as group:
        raise unwrap_group(group) from None


async def _run_with_stop(settings: Settings, progress: Progress, stop: anyio.Event) -> RunResult:
    async with anyio.create_task_group() as group:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:

            async def watch() -> None:
                async for signum in signals:
                    log.warning(
                        "received %s: stopping the run",
                        signal.Signals(signum).name,
                        extra={"event": "signal"},
                    )
                    stop.set()

            group.start_soon(watch)
            result = await run_collection(settings, stop=stop, observer=progress)
            group.cancel_scope.cancel()
    return result


def _export_metrics(settings: Settings, result: RunResult) -> None:
    """Write and push the run's metrics; a failure is logged, the run's exit code stays
    (a failed push is a warning: retrying the whole collection would not fix it)."""
    shard = str(settings.shard) if settings.shard else None
    registry = run_registry(result, {"shard": shard} if shard else {})
    if settings.metrics_file:
        try:
            write_textfile(Path(settings.metrics_file), registry)
        except OSError as exc:
            log.error("cannot write metrics file %s: %s", settings.metrics_file, exc.strerror)
    if settings.pushgateway_url:
        try:
            push(settings.pushgateway_url, registry, shard, pushgateway_authorization(settings))
        except Exception as exc:  # whatever urllib, TLS or the file raise: the run is done
            log.warning(
                "cannot push metrics to %s: %s",
                settings.pushgateway_url,
                getattr(exc, "reason", None) or str(exc) or type(exc).__name__,
                extra={"event": "metrics_push_failed"},
            )
