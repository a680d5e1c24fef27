"""Run metrics for Prometheus: a file for node_exporter's textfile collector, or a push to
a Pushgateway (a CronJob pod has no node_exporter directory).

The only module that imports prometheus_client (an import-linter contract holds it to that).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
from prometheus_client.exposition import default_handler, generate_latest

from .._files import replaced
from .._model.run import RunResult

PREFIX = "appflow_inventory"
JOB = "appflow-inventory"
"""The Pushgateway job every run pushes to; shards are told apart by their grouping key."""
PUSH_TIMEOUT = 30.0


def run_registry(result: RunResult, labels: dict[str, str]) -> CollectorRegistry:
    """The metrics of a finished run."""
    assert result.finished_at is not None
    return metrics_registry(
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
        flows=result.flows_seen,
        flow_changes=dict(result.flow_changes),
    )


def metrics_registry(
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
    flows: int = 0,
    flow_changes: dict[str, int] | None = None,
) -> CollectorRegistry:
    """A registry holding one run's gauges. Pure: no clock, no I/O."""
    base = dict(labels or {})
    registry = CollectorRegistry(auto_describe=True)

    def gauge(name: str, help_text: str, *samples: tuple[dict[str, str], float]) -> None:
        names = [*base, *(samples[0][0] if samples else ())]
        metric = Gauge(f"{PREFIX}_{name}", help_text, names, registry=registry)
        for labels, value in samples:
            # A gauge with no label names is its own (only) sample.
            (metric.labels(**base, **labels) if names else metric).set(value)

    gauge("run_duration_seconds", "Wall time of the last run.", ({}, duration))
    gauge(
        "run_status",
        "1 for the status of the last run.",
        *(
            ({"status": s}, 1.0 if s == status else 0.0)
            for s in ("succeeded", "partial", "failed", "interrupted")
        ),
    )
    gauge(
        "scopes",
        "Scopes of the last run by status.",
        *(({"status": s}, scopes.get(s, 0)) for s in ("succeeded", "failed", "skipped")),
    )
    if failures_by_code:
        gauge(
            "scope_failures",
            "Failed scopes of the last run by error code.",
            *(({"error_code": c}, n) for c, n in sorted(failures_by_code.items())),
        )
    gauge("profiles_seen", "Profiles listed by the last run.", ({}, profiles))
    gauge(
        "changes",
        "Profile changes recorded by the last run by type.",
        *(({"type": t}, changes.get(t, 0)) for t in ("created", "updated", "deleted", "restored")),
    )
    gauge("flows_seen", "Flows listed by the last run.", ({}, flows))
    gauge(
        "flow_changes",
        "Flow changes recorded by the last run by type.",
        *(
            ({"type": t}, (flow_changes or {}).get(t, 0))
            for t in ("created", "updated", "deleted", "restored")
        ),
    )
    gauge("requests", "AWS API attempts made by the last run.", ({}, requests))
    gauge("retries", "Retried AWS API attempts of the last run.", ({}, retries))
    if last_success is not None:
        gauge(
            "last_success_timestamp_seconds",
            "When the last fully successful run finished (Unix time).",
            ({}, last_success.timestamp()),
        )
    return registry


def exposition(registry: CollectorRegistry) -> str:
    """The registry in Prometheus' text format."""
    return generate_latest(registry).decode()


METRICS_FILE_MODE = 0o644
"""node_exporter reads the textfile as another user; the file holds counts only."""


def write_textfile(path: Path, registry: CollectorRegistry) -> None:
    """Replace `path` with the metrics, atomically, so a scraper never reads half a file.

    Written through `replaced` rather than prometheus_client's `write_to_textfile`, whose
    temporary file has a predictable name and is opened following links.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with replaced(path, METRICS_FILE_MODE) as out:
        out.write(generate_latest(registry))


def push(
    url: str, registry: CollectorRegistry, shard: str | None, authorization: str | None = None
) -> None:
    """Replace this shard's group on the Pushgateway at `url` with the run's metrics.

    The group is the job and the shard (`/metrics/job/appflow-inventory/shard@base64/MC80`
    for shard `0/4`: a value holding `/` travels base64-encoded), so the shards of one pass
    never overwrite each other. `authorization` is sent as the `Authorization` header. An
    https URL's certificate is checked against the system's CAs (or `SSL_CERT_FILE`'s).
    Raises whatever urllib raises if the push fails.
    """
    grouping = {"shard": shard} if shard is not None else {}
    push_to_gateway(
        url,
        job=JOB,
        registry=registry,
        grouping_key=grouping,
        timeout=PUSH_TIMEOUT,
        handler=_authorized(authorization),
    )


def _authorized(authorization: str | None) -> Callable[..., Callable[[], None]]:
    """prometheus_client's default handler, adding the `Authorization` header if any."""

    def handler(
        url: str, method: str, timeout: float | None, headers: list[tuple[str, str]], data: bytes
    ) -> Callable[[], None]:
        if authorization is not None:
            headers = [*headers, ("Authorization", authorization)]
        return default_handler(url, method, timeout, headers, data)

    return handler
