"""Run metrics in Prometheus text format, for node_exporter's textfile collector."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from .._model.run import RunResult

PREFIX = "appflow_inventory"


def render_run_metrics(result: RunResult, labels: dict[str, str]) -> str:
    """The metrics of a finished run."""
    assert result.finished_at is not None
    return render_metrics(
        status=result.status,
        duration=(result.finished_at - result.started_at).total_seconds(),
        scopes=dict(result.scopes),
        profiles=result.profiles_seen,
        changes=dict(result.changes),
        requests=result.requests,
        retries=result.retries,
        failures_by_code=dict(Counter(str(o.error_code) for o in result.failures)),
        last_success=result.last_success,
        labels=labels,
    )


def render_metrics(
    *,
    status: str,
    duration: float,
    scopes: dict[str, int],
    profiles: int,
    changes: dict[str, int],
    requests: int,
    retries: int,
    failures_by_code: dict[str, int],
    last_success: datetime | None,
    labels: dict[str, str] | None = None,
) -> str:
    """The text exposition of one run. Pure: no clock, no I/O."""
    base = dict(labels or {})
    lines: list[str] = []
    lines += _metric(
        "run_duration_seconds", "gauge", "Wall time of the last run.", [(base, duration)]
    )
    lines += _metric(
        "run_status",
        "gauge",
        "1 for the status of the last run.",
        [
            ({**base, "status": s}, 1.0 if s == status else 0.0)
            for s in ("succeeded", "partial", "failed", "interrupted")
        ],
    )
    lines += _metric(
        "scopes",
        "gauge",
        "Scopes of the last run by status.",
        [
            ({**base, "status": s}, float(scopes.get(s, 0)))
            for s in ("succeeded", "failed", "skipped")
        ],
    )
    lines += _metric(
        "scope_failures",
        "gauge",
        "Failed scopes of the last run by error code.",
        [({**base, "error_code": c}, float(n)) for c, n in sorted(failures_by_code.items())],
    )
    lines += _metric(
        "profiles_seen", "gauge", "Profiles listed by the last run.", [(base, float(profiles))]
    )
    lines += _metric(
        "changes",
        "gauge",
        "Profile changes recorded by the last run by type.",
        [
            ({**base, "type": t}, float(changes.get(t, 0)))
            for t in ("created", "updated", "deleted", "restored")
        ],
    )
    lines += _metric(
        "requests", "gauge", "AWS API attempts made by the last run.", [(base, float(requests))]
    )
    lines += _metric(
        "retries", "gauge", "Retried AWS API attempts of the last run.", [(base, float(retries))]
    )
    if last_success is not None:
        lines += _metric(
            "last_success_timestamp_seconds",
            "gauge",
            "When the last fully successful run finished (Unix time).",
            [(base, last_success.timestamp())],
        )
    return "\n".join(lines) + "\n"


def _metric(
    name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]
) -> list[str]:
    full = f"{PREFIX}_{name}"
    lines = [f"# HELP {full} {help_text}", f"# TYPE {full} {kind}"]
    for labels, value in samples:
        lines.append(f"{full}{_labels(labels)} {_number(value)}")
    return lines


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so a scraper never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
