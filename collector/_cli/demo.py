"""`collector demo`: the main job end to end, against the built-in simulator.

Starts the simulator on 127.0.0.1, points the standard endpoint variables at it, collects a
simulated organization into SQLite, changes some profiles and flows, collects again, and
shows what was stored, what changed, and which flows use which profiles.
"""

from __future__ import annotations

import io
import os
import random
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from .._config import Settings, load_settings, parse_database_url
from .._errors import ConfigError
from .._model.resource import Link
from .._model.resources import LINKS, PROFILES
from .._model.run import ExitCode, RunResult
from .._service import (
    Reader,
    Rows,
    is_labelled_inventory,
    open_inventory,
    run_collection,
)
from ..simulator import Faults, MutationSummary, Simulator, generate_organization, mutate
from .escape import escape_control
from .render import TableWriter

ROLE_NAME = "AppFlowInventoryReader"
# Every run of the demo carries this label: it is how the demo knows a file is its own
# database, the only kind it removes to start afresh.
DEMO_RUN_LABEL = "demo"


def sql_to_try(used_profile: str) -> list[tuple[str, str]]:
    """Questions and the SQL answering them, each with an answer on the demo's data;
    `used_profile` names a profile some flows use."""
    quoted = used_profile.replace("'", "''")
    return [
        (
            "How many profiles of each connector type?",
            "SELECT connector_type, count(*) AS profiles FROM connector_profiles\n"
            "WHERE deleted_at IS NULL GROUP BY connector_type ORDER BY profiles DESC",
        ),
        (
            "Which Salesforce profiles point at a sandbox?",
            "SELECT p.account_id, p.region, p.connector_profile_name\n"
            "FROM connector_profiles p\n"
            "JOIN connector_profile_properties pp USING (connector_profile_arn)\n"
            "WHERE p.deleted_at IS NULL AND pp.connector = 'Salesforce'\n"
            "  AND pp.path = 'isSandboxEnvironment' AND pp.value = 'true'",
        ),
        (
            "What changed in the last 7 days?",
            "SELECT v.valid_from, v.change_type, p.account_id, p.connector_profile_name,\n"
            "       v.changed_fields\n"
            "FROM connector_profile_versions v JOIN connector_profiles p "
            "USING (connector_profile_arn)\n"
            "WHERE v.valid_from >= datetime('now', '-7 days') ORDER BY v.valid_from DESC",
        ),
        (
            "Which private connections are there, and are they provisioned?",
            "SELECT account_id, region, connector_profile_name, private_connection_status\n"
            "FROM connector_profiles WHERE connection_mode = 'Private' AND deleted_at IS NULL",
        ),
        (
            "Which profiles does no flow use?",
            "SELECT p.account_id, p.region, p.connector_profile_name\n"
            "FROM connector_profiles p\n"
            "WHERE p.deleted_at IS NULL\n"
            "  AND NOT EXISTS (SELECT 1 FROM flow_connector_profiles l JOIN flows f "
            "USING (flow_arn)\n"
            "                  WHERE l.connector_profile_arn = p.connector_profile_arn\n"
            "                    AND f.deleted_at IS NULL)",
        ),
        (
            f"Which flows break if the credentials of {used_profile} rotate?",
            "SELECT f.account_id, f.region, f.flow_name, f.flow_status, l.role\n"
            "FROM flow_connector_profiles l JOIN flows f USING (flow_arn)\n"
            f"WHERE l.connector_profile_name = '{quoted}' AND f.deleted_at IS NULL",
        ),
    ]


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
        faults.error_rate_500 = 0.08
        faults.error_rate_429 = 0.02
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
        f"{result.requests} requests ({result.retries} retried)."
    )
    for resource in result.resources:
        counts = result.count(resource)
        print(
            f"  {resource.title}: {counts['seen']} listed; {counts['created']} created, "
            f"{counts['updated']} updated, {counts['deleted']} deleted"
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
        print(await _table(inventory.profile_counts("account_id")))
        print("\nProfiles per connector type:")
        print(await _table(inventory.profile_counts("connector_type")))
        updated: dict[str, Any] | None = None
        for resource in second.resources:
            rows = inventory.run_changes(resource, second.run_id)
            changes = await _rows(rows)
            print(f"\nWhat changed between the passes ({resource.versions}):")
            shortened = [{k: _shorten(v) for k, v in row.items()} for row in changes]
            print(_rendered(shortened, rows.columns))
            if resource is PROFILES:
                updated = next((r for r in changes if r["change_type"] == "updated"), None)
        used = ""
        for link in LINKS:
            most_used = await _report_link(inventory, link)
            if link.target is PROFILES and most_used:
                used = most_used
    _suggest(database_url, updated, used)


def _suggest(database_url: str, updated: dict[str, Any] | None, used_profile: str) -> None:
    """The read commands and SQL to try next, each with an answer on this database."""
    url = shlex.quote(database_url)
    path = escape_control(database_url.removeprefix("sqlite:///"))
    lines = [
        "",
        f"The inventory is in {path}. Read it with the collector (or export "
        f"COLLECTOR_DATABASE_URL={url} and leave out --database-url):",
        "",
        f"  collector show --database-url {url}",
        f"  collector show --database-url {url} --connector-type Salesforce",
        f"  collector changes --database-url {url} --run last",
        f"  collector runs --database-url {url}",
    ]
    if updated is not None:
        name = shlex.quote(updated[PROFILES.name_column])
        lines.append(
            f"  collector history --database-url {url} {name} "
            f"--accounts {updated['account_id']} --regions {updated['region']} --diff"
        )
    print("\n".join(escape_control(line) for line in lines))
    print(
        "\nand SQL, with `collector query --database-url "
        f'{escape_control(url)} "SELECT ..."` or `sqlite3 {path}`:'
    )
    for question, sql in sql_to_try(used_profile):
        text = "\n".join(escape_control(line) for line in f"-- {question}\n{sql};".splitlines())
        print(f"\n{text}")


async def _report_link(inventory: Reader, link: Link) -> str:
    """Which records name each target of `link`, and which name one that does not exist;
    returns the name of the most used target ("" if none is used)."""
    owners, target = link.owner, link.target
    rows = inventory.link_usage(link)
    usage = await _rows(rows)
    unused = sum(1 for row in usage if row[owners.name] == 0)
    print(
        f"\nWhich {owners.title} use each {target.singular} ({link.table}): {unused} of "
        f"{len(usage)} {target.title} are used by none; the most used:"
    )
    print(_rendered(usage[:8], rows.columns))
    print(f"\n{owners.title.capitalize()} naming a {target.singular} that does not exist:")
    print(await _table(inventory.unresolved_links(link)))
    used = [row for row in usage if row[owners.name]]
    return str(used[0][target.name_column]) if used else ""


async def _rows(rows: Rows) -> list[dict[str, Any]]:
    return [dict(row) async for row in rows]


def _rendered(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = TableWriter(columns, out, indent="  ")
    for row in rows:
        writer.row(row)
    writer.close()
    return out.getvalue().rstrip("\n")


async def _table(rows: Rows, cell: Callable[[Any], Any] = lambda value: value) -> str:
    out = io.StringIO()
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
