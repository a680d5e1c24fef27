"""`collector demo`: the main job end to end, against the built-in simulator.

Starts the simulator on 127.0.0.1, points the standard endpoint variables at it, collects a
simulated organization into SQLite, changes some profiles and flows, collects again, and
shows what was stored, what changed, and which flows use which profiles.
"""

from __future__ import annotations

import io
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from .._config import Settings, load_settings, parse_database_url
from .._errors import ConfigError
from .._model.run import ExitCode, RunResult
from .._service import Reader, Rows, is_labelled_inventory, open_inventory, run_collection
from ..simulator import Faults, MutationSummary, Simulator, generate_organization, mutate
from .escape import escape_control
from .render import TableWriter

ROLE_NAME = "AppFlowInventoryReader"
# Every run of the demo carries this label: it is how the demo knows a file is its own
# database, the only kind it removes to start afresh.
DEMO_RUN_LABEL = "demo"

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
FROM connector_profiles WHERE private_connection_status = 'FAILED' AND deleted_at IS NULL;

-- Which profiles does no flow use?
SELECT p.account_id, p.region, p.connector_profile_name
FROM connector_profiles p
WHERE p.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM flow_connector_profiles l JOIN flows f USING (flow_arn)
                  WHERE l.connector_profile_arn = p.connector_profile_arn
                    AND f.deleted_at IS NULL);

-- Which flows break if this profile's credentials rotate?
SELECT f.flow_name, f.flow_status, l.role
FROM flow_connector_profiles l JOIN flows f USING (flow_arn)
WHERE l.connector_profile_name = 'salesforce-prod' AND f.deleted_at IS NULL;"""


def run_demo(database_url: str, accounts: int) -> int:
    path = parse_database_url(database_url).sqlite_file
    if path is not None:
        _remove_previous_demo(path)
    org = generate_organization(
        seed=20261127, accounts=accounts, empty_fraction=0.7, profiles_per_scope=(1, 6)
    )
    faults = Faults(latency=0.02, latency_jitter=0.5, seed=1)
    with Simulator(org, faults=faults) as sim:
        os.environ.update(sim.env())
        settings = load_settings(
            {
                "database_url": database_url,
                "organization": True,
                "role_name": ROLE_NAME,
                "run_label": DEMO_RUN_LABEL,
            }
        )
        print(
            f"Simulated AWS on {sim.endpoint_url}: an organization of {accounts} accounts, "
            "16 AppFlow regions each.\n"
        )
        _timed_run(settings, "First pass")
        changed = mutate(
            org,
            random.Random(7),
            creates=3,
            updates=4,
            deletes=2,
            flow_creates=2,
            flow_updates=2,
            flow_deletes=1,
            flow_runs=5,
        )
        faults.error_rate_500 = 0.05
        faults.error_rate_429 = 0.05
        print(
            f"\nBetween passes the simulator changed profiles and flows ({_describe(changed)}) "
            "and began failing 10% of requests with 500 and 429.\n"
        )
        second = _timed_run(settings, "Second pass")
    anyio.run(_report, database_url, second)
    return ExitCode.OK


def _remove_previous_demo(path: str) -> None:
    """Start from an empty inventory, removing only a database an earlier demo made."""
    files = [Path(path + suffix) for suffix in ("", "-wal", "-shm")]
    if not any(file.exists() or file.is_symlink() for file in files):
        return
    if not is_labelled_inventory(path, DEMO_RUN_LABEL):
        raise ConfigError(
            f"{path} exists and is not a database made by `collector demo`; "
            "remove it or give another --database-url"
        )
    for file in files:
        file.unlink(missing_ok=True)


def _timed_run(settings: Settings, title: str) -> RunResult:
    started = time.monotonic()
    result = anyio.run(run_collection, settings)
    scopes = result.scopes
    print(
        f"{title}: {sum(scopes.values())} scopes ({scopes['succeeded']} ok, "
        f"{scopes['skipped']} skipped as opt-in regions not enabled, "
        f"{scopes['failed']} failed) in {time.monotonic() - started:.1f}s, "
        f"{result.requests} requests ({result.retries} retried), "
        f"{result.profiles_seen} profiles; {result.changes['created']} created, "
        f"{result.changes['updated']} updated, {result.changes['deleted']} deleted; "
        f"{result.flows_seen} flows; {result.flow_changes['created']} created, "
        f"{result.flow_changes['updated']} updated, {result.flow_changes['deleted']} deleted."
    )
    return result


def _describe(summary: MutationSummary) -> str:
    parts = summary.as_dict()
    return ", ".join(
        f"{len(arns)} {kind.replace('_', ' ')}" for kind, arns in parts.items() if arns
    )


async def _report(database_url: str, second: RunResult) -> None:
    async with open_inventory(database_url) as inventory:
        print("\nProfiles per account:")
        print(await _table(inventory, lambda i: i.profile_counts("account_id")))
        print("\nProfiles per connector type:")
        print(await _table(inventory, lambda i: i.profile_counts("connector_type")))
        print("\nWhat changed between the passes (connector_profile_versions):")
        print(await _table(inventory, lambda i: i.run_changes(second.run_id), _shorten))
        usage = await _rows(inventory.profile_usage())
        unused = sum(1 for row in usage if row["flows"] == 0)
        print(
            f"\nWhich flows use each profile (flow_connector_profiles): {unused} of "
            f"{len(usage)} profiles are used by no flow; the most used:"
        )
        print(_rendered(usage[:8], ("account_id", "region", "connector_profile_name", "flows")))
        print("\nFlows naming a connector profile that does not exist (or was deleted):")
        print(await _table(inventory, lambda i: i.dangling_links()))
    path = escape_control(database_url.removeprefix("sqlite:///"))
    print(f"\nThe inventory is in {path}. Try:\n")
    print(f"  sqlite3 {path}\n")
    print(SQL_TO_TRY)


async def _rows(rows: Rows) -> list[dict[str, Any]]:
    return [dict(row) async for row in rows]


def _rendered(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = TableWriter(columns, out, indent="  ")
    for row in rows:
        writer.row(row)
    writer.close()
    return out.getvalue().rstrip("\n")


async def _table(
    inventory: Reader,
    query: Callable[[Reader], Rows],
    cell: Callable[[Any], Any] = lambda value: value,
) -> str:
    out = io.StringIO()
    rows = query(inventory)
    writer = TableWriter(rows.columns, out, indent="  ")
    async for row in rows:
        writer.row({name: cell(value) for name, value in row.items()})
    writer.close()
    return out.getvalue().rstrip("\n")


def _shorten(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    text = ",".join(map(str, value))
    return text if len(text) <= 60 else text[:57] + "..."
