"""`collector demo`: the main job end to end, against the built-in simulator.

Starts the simulator on 127.0.0.1, points the standard endpoint variables at it, collects a
simulated organization into SQLite, changes some profiles, collects again, and shows what
was stored and what changed.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa

from ._core._database import async_url, create_engine
from ._core._runner import RunResult, run_collection
from ._core._settings import load_settings
from .simulator import Faults, Simulator, generate_organization, mutate

ROLE_NAME = "AppFlowInventoryReader"

SQL_TO_TRY = """\
-- Which Salesforce profiles point at a sandbox?
SELECT p.account_id, p.region, p.connector_profile_name
FROM connector_profiles p
JOIN connector_profile_properties pp USING (connector_profile_arn)
WHERE p.deleted_at IS NULL AND pp.connector = 'Salesforce'
  AND pp.path = 'isSandboxEnvironment' AND pp.value = 'true';

-- What changed in the last 7 days?
SELECT v.valid_from, v.change_type, p.account_id, p.connector_profile_name, v.changed_fields
FROM connector_profile_versions v JOIN connector_profiles p USING (connector_profile_arn)
WHERE v.valid_from >= datetime('now', '-7 days') ORDER BY v.valid_from DESC;

-- Which private connections failed to provision, and why?
SELECT account_id, region, connector_profile_name, private_connection_failure_cause
FROM connector_profiles WHERE private_connection_status = 'FAILED' AND deleted_at IS NULL;"""


def run_demo(database_url: str, accounts: int) -> int:
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        # The demo starts from an empty inventory each time.
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    org = generate_organization(
        seed=20261127, accounts=accounts, empty_fraction=0.7, profiles_per_scope=(1, 6)
    )
    faults = Faults(latency=0.02, latency_jitter=0.5, seed=1)
    with Simulator(org, faults=faults) as sim:
        os.environ.update(sim.env())
        settings = load_settings(
            {"database_url": database_url, "organization": True, "role_name": ROLE_NAME}
        )
        print(
            f"Simulated AWS on {sim.endpoint_url}: an organization of {accounts} accounts, "
            "16 AppFlow regions each.\n"
        )
        first = _timed_run(settings, "First pass")
        changed = mutate(org, random.Random(7), creates=3, updates=4, deletes=2)
        faults.error_rate_500 = 0.05
        faults.error_rate_429 = 0.05
        print(
            f"\nBetween passes the simulator changed profiles ({_describe(changed)}) and "
            "began failing 10% of requests with 500 and 429.\n"
        )
        second = _timed_run(settings, "Second pass")
    anyio.run(_report, database_url, first, second)
    return 0


def _timed_run(settings: Any, title: str) -> RunResult:
    started = time.monotonic()
    result = anyio.run(run_collection, settings)
    scopes = result.scopes
    print(
        f"{title}: {sum(scopes.values())} scopes ({scopes['succeeded']} ok, "
        f"{scopes['skipped']} skipped as opt-in regions not enabled, "
        f"{scopes['failed']} failed) in {time.monotonic() - started:.1f}s, "
        f"{result.requests} requests ({result.retries} retried), "
        f"{result.profiles_seen} profiles; {result.changes['created']} created, "
        f"{result.changes['updated']} updated, {result.changes['deleted']} deleted."
    )
    return result


def _describe(summary: Any) -> str:
    parts = summary.as_dict()
    return ", ".join(f"{len(arns)} {kind}" for kind, arns in parts.items())


async def _report(database_url: str, first: RunResult, second: RunResult) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            by_account = await conn.execute(
                sa.text(
                    "SELECT account_id, count(*) AS profiles FROM connector_profiles "
                    "WHERE deleted_at IS NULL GROUP BY account_id ORDER BY account_id"
                )
            )
            print("\nProfiles per account:")
            print(_table(["account_id", "profiles"], by_account.all()))
            by_type = await conn.execute(
                sa.text(
                    "SELECT connector_type, count(*) AS profiles FROM connector_profiles "
                    "WHERE deleted_at IS NULL GROUP BY connector_type ORDER BY 2 DESC, 1"
                )
            )
            print("\nProfiles per connector type:")
            print(_table(["connector_type", "profiles"], by_type.all()))
            changes = await conn.execute(
                sa.text(
                    "SELECT v.change_type, p.account_id, p.region, p.connector_profile_name, "
                    "v.changed_fields FROM connector_profile_versions v "
                    "JOIN connector_profiles p USING (connector_profile_arn) "
                    "WHERE v.run_id = :run ORDER BY v.change_type, p.connector_profile_name"
                ),
                {"run": second.run_id},
            )
            print("\nWhat changed between the passes (connector_profile_versions):")
            print(
                _table(
                    ["change", "account_id", "region", "profile", "changed_fields"],
                    [(*row[:4], _short(row[4])) for row in changes.all()],
                )
            )
    finally:
        await engine.dispose()
    print(f"\nThe inventory is in {database_url.removeprefix('sqlite:///')}. Try:\n")
    print(f"  sqlite3 {database_url.removeprefix('sqlite:///')}\n")
    print(SQL_TO_TRY)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [list(map(str, header))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)
