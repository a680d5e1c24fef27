"""Run metrics for Prometheus: a file for node_exporter's textfile collector, or a push to
a Pushgateway (a CronJob pod has no node_exporter directory).

The only module that imports prometheus_client (an import-linter contract holds it to that).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
from prometheus_client.exposition import default_handler, generate_latest

from .._files import replaced
from .._model.resource import Resource
from .._model.resources import RESOURCES
from .._model.run import CHANGE_TYPES, RunResult

_Gauge = Callable[..., None]

PREFIX = "appflow_inventory"
JOB = "appflow-inventory"
"""The Pushgateway job every run pushes to; shards are told apart by their grouping key."""
PUSH_TIMEOUT = 30.0


def run_registry(result: RunResult, labels: dict[str, str]) -> CollectorRegistry:
    """A registry holding the gauges of a finished run. Pure: no clock, no I/O."""
    assert result.finished_at is not None
    base = dict(labels)
    registry = CollectorRegistry(auto_describe=True)

    def gauge(name: str, help_text: str, *samples: tuple[dict[str, str], float]) -> None:
        names = [*base, *(samples[0][0] if samples else ())]
        metric = Gauge(f"{PREFIX}_{name}", help_text, names, registry=registry)
        for labels, value in samples:
            # A gauge with no label names is its own (only) sample.
            (metric.labels(**base, **labels) if names else metric).set(value)

    duration = (result.finished_at - result.started_at).total_seconds()
    gauge("run_duration_seconds", "Wall time of the last run.", ({}, duration))
    gauge(
        "run_status",
        "1 for the status of the last run.",
        *(
            ({"status": s}, 1.0 if s == result.status else 0.0)
            for s in ("succeeded", "partial", "failed", "interrupted")
        ),
    )
    gauge(
        "scopes",
        "Scopes of the last run by status.",
        *(({"status": s}, result.scopes[s]) for s in ("succeeded", "failed", "skipped")),
    )
    failures_by_code = Counter(str(o.error_code) for o in result.failures)
    if failures_by_code:
        gauge(
            "scope_failures",
            "Failed scopes of the last run by error code.",
            *(({"error_code": c}, n) for c, n in sorted(failures_by_code.items())),
        )
    if result.skips:
        gauge(
            "scope_skips",
            "Skipped scopes of the last run by error code (opt-in regions not enabled, "
            "organization policies that deny).",
            *(({"error_code": c}, n) for c, n in sorted(result.skips.items())),
        )
    # Every resource, listed or not: a dashboard's series must not vanish with a run that
    # listed fewer.
    resources = {resource: result.count(resource) for resource in RESOURCES}
    gauge(
        "resources_seen",
        "Records listed by the last run, by resource.",
        *(({"resource": r.name}, counts["seen"]) for r, counts in resources.items()),
    )
    gauge(
        "resource_changes",
        "Versions recorded by the last run, by resource and change type.",
        *(
            ({"resource": r.name, "type": t}, counts[t])
            for r, counts in resources.items()
            for t in CHANGE_TYPES
        ),
    )
    for resource, counts in resources.items():
        _legacy_gauges(gauge, resource, counts)
    gauge("requests", "AWS API attempts made by the last run.", ({}, result.requests))
    gauge("retries", "Retried AWS API attempts of the last run.", ({}, result.retries))
    if result.last_success is not None:
        gauge(
            "last_success_timestamp_seconds",
            "When the last fully successful run finished (Unix time).",
            ({}, result.last_success.timestamp()),
        )
    return registry


def _legacy_gauges(gauge: _Gauge, resource: Resource, counts: Mapping[str, int]) -> None:
    """The gauges of a resource from before they took a `resource` label (`profiles_seen`,
    `changes`, `flows_seen`, `flow_changes`): dashboards still read them."""
    if resource.legacy_metrics is None:
        return
    seen, changes = resource.legacy_metrics
    title = resource.title.capitalize()
    gauge(seen, f"{title} listed by the last run.", ({}, counts.get("seen", 0)))
    gauge(
        changes,
        f"{title} changes recorded by the last run by type.",
        *(({"type": t}, counts.get(t, 0)) for t in CHANGE_TYPES),
    )


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
