"""`collector run`: one collection pass, stopped cleanly by SIGTERM or SIGINT.

Its result ends the output: a text summary on stdout with the failures grouped by cause,
or with `--log-format json` one `run_finished` event (JSON, as every line on stdout and
stderr then is), also written to `--summary-file`. `--dry-run` prints the plan instead.
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio

from .._config import OPTIONS, Settings, load_settings, pushgateway_authorization, redact
from .._errors import CollectorError, unwrap_group
from .._model.run import RunResult
from .._service import run_collection
from .check import run_dry_run
from .exits import exit_code_of
from .flags import given_flags
from .options import add_command, add_settings_options
from .output import Progress, RunWatch, configure_logging
from .pipes import OutputClosed, detach_stdout
from .summary import event_line, format_summary, not_started, run_finished, write_summary_file

log = logging.getLogger("collector")


def add_run_command(commands: argparse._SubParsersAction[Any]) -> None:
    parser = add_command(
        commands,
        "run",
        "run one collection pass",
        example=(
            "collector run --organization --role-name AppFlowInventoryReader --dry-run",
            "collector run --organization --role-name AppFlowInventoryReader --deadline 1h",
            "collector run --accounts 123456789012 --regions eu-west-1 --resources profiles",
            "collector run --config /etc/appflow-inventory/collector.toml --log-format json "
            "--summary-file /var/run/appflow-inventory/last-run.json",
        ),
        description=(
            "One collection pass over the accounts and regions the options name: migrate the "
            "database, list every (account, region) scope, record what changed, and exit "
            "0 (every scope collected), 1 (some failed), 2 (configuration), 3 (could not "
            "run) or 4 (interrupted). Each option is also a COLLECTOR_* variable and a key "
            "of the --config file (flag > variable > file)."
        ),
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (accounts by state, regions, scopes, what is left out and "
        "why) without listing or writing anything",
    )
    add_settings_options(parser, OPTIONS)


def run_run(args: argparse.Namespace, verbose: int, debug_aws: bool) -> int:
    settings = load_settings(given_flags(args, *OPTIONS))
    configure_logging(settings.log_format, verbose, debug_aws=debug_aws)
    log.debug("settings: %s", _described(settings), extra={"event": "run_settings"})
    if args.dry_run:
        return run_dry_run(settings)
    json_output = settings.log_format == "json"
    started = time.monotonic()
    watch = RunWatch(Progress(enabled=not json_output))
    try:
        with _tuned_garbage_collection():
            result = anyio.run(_run_until_signalled, settings, watch)
    except (CollectorError, KeyboardInterrupt) as error:
        # A run that could not start still ends with its event, in JSON and in the file.
        event = not_started(str(error) or "interrupted", exit_code_of(error), _since(started))
        _write_summary(settings, event)
        if not json_output:
            raise
        print(event_line(_error_line(event)), file=sys.stderr)
        return _printed(event_line(event), event["exit_code"])
    finally:
        watch.progress.close()
    if settings.metrics_file or settings.pushgateway_url:
        _export_metrics(settings, result)
    seconds = _since(started)
    event = run_finished(result, seconds, watch.tally)
    _write_summary(settings, event)
    text = event_line(event) if json_output else format_summary(result, seconds, watch.tally)
    return _printed(text, result.exit_code)


def _since(started: float) -> float:
    return time.monotonic() - started


def _printed(text: str, code: int) -> int:
    """Print the run's result; a reader gone from stdout changes nothing of the run's code."""
    try:
        print(text, flush=True)
    except OutputClosed:
        detach_stdout()
    return code


def _error_line(event: Mapping[str, Any]) -> dict[str, Any]:
    """The error log line that goes with a run that could not start (on stderr)."""
    return {
        "time": event["time"],
        "level": "error",
        "logger": "collector",
        "event": "error",
        "message": event["error"],
        "exit_code": event["exit_code"],
    }


def _write_summary(settings: Settings, event: Mapping[str, Any]) -> None:
    """Write `--summary-file`; a failure is logged and changes nothing of the run's code."""
    if not settings.summary_file:
        return
    try:
        write_summary_file(Path(settings.summary_file), event)
    except OSError as exc:
        log.error(
            "cannot write summary file %s: %s",
            settings.summary_file,
            exc.strerror or exc,
            extra={"event": "summary_file_failed"},
        )


def _described(settings: Settings) -> str:
    """The settings a run uses, for `-v` (the database URL's password masked)."""
    shown = {
        "database": redact(settings.database_url),
        "accounts": ",".join(settings.accounts)
        or ("organization" if settings.organization else "caller"),
        "regions": ",".join(settings.regions),
        "resources": ",".join(r.name for r in settings.listed_resources),
        "role": settings.role_name,
        "concurrency": settings.concurrency,
        "max_attempts": settings.max_attempts,
        "deadline": settings.deadline,
    }
    return ", ".join(f"{k} {v}" for k, v in shown.items() if v is not None)


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


async def _run_until_signalled(settings: Settings, watch: RunWatch) -> RunResult:
    """Run once; SIGTERM or SIGINT stops the run cleanly instead of killing it mid-write."""
    stop = anyio.Event()
    try:
        return await _run_with_stop(settings, watch, stop)
    except BaseExceptionGroup as group:
        raise unwrap_group(group) from None


async def _run_with_stop(settings: Settings, watch: RunWatch, stop: anyio.Event) -> RunResult:
    async with anyio.create_task_group() as group:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:

            async def on_signal() -> None:
                async for signum in signals:
                    log.warning(
                        "received %s: stopping the run",
                        signal.Signals(signum).name,
                        extra={"event": "signal"},
                    )
                    stop.set()

            group.start_soon(on_signal)
            result = await run_collection(settings, stop=stop, observer=watch)
            group.cancel_scope.cancel()
    return result


def _export_metrics(settings: Settings, result: RunResult) -> None:
    """Write and push the run's metrics; a failure is logged, the run's exit code stays
    (a failed push is a warning: retrying the whole collection would not fix it)."""
    # prometheus_client is imported only by the runs that export metrics.
    from .metrics import push, run_registry, write_textfile

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
