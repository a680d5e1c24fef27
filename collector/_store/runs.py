"""What the recorded runs did: recent runs with their counts and failures, one run's
failed and skipped scopes. Read through the reader's read-only connection."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .._model.resource import Resource
from .._model.run import CHANGE_TYPES
from .schema import collection_run_resources, collection_runs, collection_scopes

SCOPE_COLUMNS = ("account_id", "region", "status", "error_code", "aws_error_code", "error_message")
"""What `runs --run ID` prints of each scope that did not succeed."""

# A run id given by its start: enough characters to be unlikely to match two runs.
MIN_RUN_PREFIX = 6


def run_columns(resources: Sequence[Resource]) -> tuple[str, ...]:
    """What `runs` prints of each run: the records each resource listed, the versions
    written, and the failed scopes by error code."""
    return (
        "run_id",
        "started_at",
        "duration",
        "status",
        "run_label",
        "shard",
        "scopes",
        "failed",
        "skipped",
        *(resource.name for resource in resources),
        "changes",
        "failures",
    )


async def recent_runs(
    conn: AsyncConnection,
    resources: Sequence[Resource],
    *,
    limit: int,
    since: datetime | None,
    statuses: Sequence[str],
) -> list[dict[str, Any]]:
    """The latest `limit` runs (started at or after `since`, of `statuses`), newest first."""
    r = collection_runs.c
    query = sa.select(collection_runs).order_by(r.started_at.desc(), r.run_id).limit(limit)
    if since is not None:
        query = query.where(r.started_at >= since)
    if statuses:
        query = query.where(r.status.in_(statuses))
    runs = [dict(row) for row in (await conn.execute(query)).mappings()]
    ids = [run["run_id"] for run in runs]
    seen, changes = await _resource_counts(conn, ids)
    failures = await _failures(conn, ids)
    return [_shown(run, resources, seen, changes, failures) for run in runs]


def _shown(
    run: dict[str, Any],
    resources: Sequence[Resource],
    seen: dict[tuple[str, str], int],
    changes: Counter[str],
    failures: dict[str, Counter[str]],
) -> dict[str, Any]:
    run_id, started, finished = run["run_id"], run["started_at"], run["finished_at"]
    return {
        "run_id": run_id,
        "started_at": started,
        "duration": None if finished is None else round((finished - started).total_seconds(), 1),
        "status": run["status"],
        "run_label": run["run_label"],
        "shard": run["shard"],
        "scopes": run["scopes_total"],
        "failed": run["scopes_failed"],
        "skipped": run["scopes_skipped"],
        **{
            resource.name: seen.get((run_id, resource.name), _legacy_seen(run, resource))
            for resource in resources
        },
        "changes": changes[run_id],
        "failures": ", ".join(
            f"{code} {count}" for code, count in failures.get(run_id, Counter()).most_common()
        )
        or None,
    }


def _legacy_seen(run: dict[str, Any], resource: Resource) -> int | None:
    """A run from before `collection_run_resources`: its profile and flow counts were
    columns of its own."""
    column = f"{resource.run_columns}_seen" if resource.run_columns else None
    return run.get(column) if column else None


async def _resource_counts(
    conn: AsyncConnection, run_ids: list[str]
) -> tuple[dict[tuple[str, str], int], Counter[str]]:
    c = collection_run_resources.c
    query = sa.select(collection_run_resources).where(c.run_id.in_(run_ids))
    seen: dict[tuple[str, str], int] = {}
    changes: Counter[str] = Counter()
    for row in (await conn.execute(query)).mappings():
        seen[(row["run_id"], row["resource"])] = row["seen"]
        changes[row["run_id"]] += sum(row[kind] for kind in CHANGE_TYPES)
    return seen, changes


async def _failures(conn: AsyncConnection, run_ids: list[str]) -> dict[str, Counter[str]]:
    c = collection_scopes.c
    query = (
        sa.select(c.run_id, c.error_code, sa.func.count().label("scopes"))
        .where(c.run_id.in_(run_ids), c.status == "failed")
        .group_by(c.run_id, c.error_code)
    )
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for row in (await conn.execute(query)).mappings():
        found[row["run_id"]][row["error_code"] or "unknown"] += row["scopes"]
    return found


async def find_run(conn: AsyncConnection, ref: str) -> str | None:
    """The id of the run `ref` names: `last` (the latest started), a run id, or the start
    of one (at least `MIN_RUN_PREFIX` characters, matching one run alone)."""
    r = collection_runs.c
    if ref == "last":
        query = sa.select(r.run_id).order_by(r.started_at.desc(), r.run_id.desc()).limit(1)
        return (await conn.execute(query)).scalar()
    exact = (await conn.execute(sa.select(r.run_id).where(r.run_id == ref))).scalar()
    if exact is not None or len(ref) < MIN_RUN_PREFIX:
        return exact
    pattern = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = sa.select(r.run_id).where(r.run_id.like(pattern, escape="\\")).limit(2)
    matches = list((await conn.execute(query)).scalars())
    return matches[0] if len(matches) == 1 else None


def failed_scopes(run_id: str) -> sa.Select[Any]:
    """The scopes of a run that failed or were skipped, by status, code and place."""
    c = collection_scopes.c
    return (
        sa.select(*(c[name] for name in SCOPE_COLUMNS))
        .where(c.run_id == run_id, c.status != "succeeded")
        .order_by(c.status, c.error_code, c.account_id, c.region)
    )
