"""A run's result for people and for programs: the text summary, and the `run_finished`
event (a JSON object) that `--log-format json` prints and `--summary-file` writes.

Failed and skipped scopes are grouped by cause (`FailureTally`): one line per error code
and AWS code, with counts, a few examples and the fix, whatever codes the collector has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._config import redact_secrets
from .._errors import truncated
from .._files import replaced
from .._model.failures import FailureGroup, FailureTally
from .._model.run import CHANGE_TYPES, RunResult
from .._model.wire import iso_utc
from .escape import escape_control


def details(run_id: str) -> str:
    """The command that shows a run's failed and skipped scopes one by one."""
    return f"collector runs --run {run_id}"


def format_summary(result: RunResult, seconds: float, tally: FailureTally | None = None) -> str:
    """The end-of-run summary a person reads in cron mail or a job log.

    `tally` holds every scope of the run (what the run's observer saw); without it the
    failures are grouped from `result.failures` alone.
    """
    # Only a tally of every scope knows how many accounts the run had.
    accounts = 0 if tally is None else len(tally.accounts)
    tally = tally or FailureTally.of(result.failures)
    scopes = result.scopes
    lines = [
        f"run {result.run_id} {result.status} in {seconds:.1f}s: "
        f"{sum(scopes.values())} scopes ({scopes['succeeded']} succeeded, "
        f"{scopes['failed']} failed, {scopes['skipped']} skipped); "
        f"{result.requests} requests, {result.retries} retries"
    ]
    for resource in result.resources:
        counts = result.count(resource)
        changes = ", ".join(f"{counts[kind]} {kind}" for kind in CHANGE_TYPES)
        lines.append(f"{resource.name}: {counts['seen']} seen; {changes}")
    if result.error:
        lines.append(f"error: {shown_message(result.error)}")
    for group in tally.failed:
        lines.append(f"failed {_group_line(group, accounts)}")
        for example in group.examples:
            lines.append(
                f"  failed {example.account_id} {example.region} {group.error_code}: "
                f"{shown_message(example.message)}"
            )
        if group.scopes > len(group.examples):
            lines.append(f"  ... and {group.scopes - len(group.examples)} more")
    lines += [f"skipped {_group_line(group, accounts)}" for group in tally.skipped]
    if tally.failed or tally.skipped:
        lines.append(f"details: {details(result.run_id)}")
    # Every field of every line, whoever wrote it, is escaped: one line stays one line.
    return "\n".join(escape_control(line) for line in lines)


def _group_line(group: FailureGroup, accounts: int) -> str:
    cause = f" ({group.cause})" if group.cause and group.cause != group.error_code else ""
    scopes = "1 scope" if group.scopes == 1 else f"{group.scopes} scopes"
    of = f" of {accounts}" if accounts else ""
    return f"{group.error_code}{cause} in {scopes}, {len(group.accounts)}{of} accounts: {group.fix}"


def shown_message(message: str) -> str:
    """An error message from AWS or a driver, masked and cut to a length fit for a line."""
    return truncated(redact_secrets(message))


def run_finished(
    result: RunResult, seconds: float, tally: FailureTally | None = None
) -> dict[str, Any]:
    """The `run_finished` event: the run's status, counts and grouped failures."""
    accounts = None if tally is None else len(tally.accounts)
    tally = tally or FailureTally.of(result.failures)
    summary = format_summary(result, seconds, tally).splitlines()[0]
    return _event(
        "info" if result.exit_code == 0 else "warning",
        summary,
        run_id=result.run_id,
        status=str(result.status),
        exit_code=int(result.exit_code),
        started_at=iso_utc(result.started_at),
        finished_at=None if result.finished_at is None else iso_utc(result.finished_at),
        duration=round(seconds, 3),
        scopes={
            "total": sum(result.scopes.values()),
            **{s: result.scopes[s] for s in ("succeeded", "failed", "skipped")},
        },
        accounts=accounts,
        resources={
            resource.name: {"seen": result.count(resource)["seen"]}
            | {kind: result.count(resource)[kind] for kind in CHANGE_TYPES}
            for resource in result.resources
        },
        requests=result.requests,
        retries=result.retries,
        error=None if result.error is None else shown_message(result.error),
        failures=[_masked(group.as_dict()) for group in tally.failed],
        skipped=[_masked(group.as_dict()) for group in tally.skipped],
        details=details(result.run_id),
    )


def not_started(error: str, exit_code: int, seconds: float) -> dict[str, Any]:
    """The `run_finished` event of a run that could not start (exit 2, 3) or was stopped
    before it began (4): no run was recorded."""
    return _event(
        "error",
        f"run not started: {shown_message(error)}",
        run_id=None,
        status="not_started",
        exit_code=exit_code,
        duration=round(seconds, 3),
        error=shown_message(error),
        failures=[],
        skipped=[],
    )


def _event(level: str, message: str, **fields: Any) -> dict[str, Any]:
    return {
        "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "level": level,
        "logger": "collector",
        "event": "run_finished",
        "message": message,
        **fields,
    }


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return shown_message(value)
    if isinstance(value, Mapping):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def event_line(event: Mapping[str, Any]) -> str:
    """An event as one JSON line (JSON escapes every control character itself)."""
    return json.dumps(event, default=str)


def write_summary_file(path: Path, event: Mapping[str, Any]) -> None:
    """Replace `path` with the event, atomically, never through a link (`_files.replaced`);
    a new file is private, one it replaces keeps its mode. Raises `OSError`."""
    with replaced(path, keep_mode=True) as out:
        out.write((json.dumps(event, indent=2, default=str) + "\n").encode())
