"""Version history at the store: what each run's listings make of the stored profiles, on
SQLite and PostgreSQL (the CLI's end of it is in tests/e2e/test_run.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from collector._model.resources.profiles import normalize_profile
from collector._model.scopes import Scope
from collector.simulator import make_profile

from ..support import as_json, assert_history_consistent, fetch, scope_outcome, store_run

ACCOUNT = "000000000042"
EAST, WEST = Scope(ACCOUNT, "us-east-1"), Scope(ACCOUNT, "eu-west-1")
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def profiles(scope: Scope, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    kinds = ("Salesforce", "Slack", "Redshift", "Snowflake")
    return [
        make_profile(kinds[i % len(kinds)], f"p{i}", scope.account_id, scope.region, rng)
        for i in range(count)
    ]


def run(url: str, number: int, listed: dict[Scope, list[dict[str, Any]]]) -> None:
    """Run `number`, an hour after the previous one, listing `listed` completely."""
    at = T0 + timedelta(hours=number)
    outcomes = [
        scope_outcome(
            scope,
            at,
            [normalize_profile(p, scope.account_id, scope.region) for p in raws],
        )
        for scope, raws in listed.items()
    ]
    store_run(url, f"run-{number}", at, outcomes)


def history(url: str, arn: object) -> list[dict[str, object]]:
    return fetch(
        url,
        "SELECT version, change_type, valid_to, changed_fields "
        "FROM connector_profile_versions WHERE connector_profile_arn = :arn "
        "ORDER BY version",
        arn=arn,
    )


def live(url: str) -> set[str]:
    rows = fetch(
        url, "SELECT connector_profile_arn FROM connector_profiles WHERE deleted_at IS NULL"
    )
    return {r["connector_profile_arn"] for r in rows}


def test_rerun_without_change_writes_no_versions(inventory_url: str) -> None:
    """A second complete listing with nothing changed adds no version rows but moves
    last_seen_at."""
    listed = {EAST: profiles(EAST, 5, 1), WEST: profiles(WEST, 3, 2)}
    run(inventory_url, 1, listed)
    count_and_seen = "SELECT count(*) AS n, max(last_seen_at) AS seen FROM connector_profiles"
    before = fetch(inventory_url, count_and_seen)
    versions = fetch(inventory_url, "SELECT count(*) AS n FROM connector_profile_versions")
    run(inventory_url, 2, listed)
    after = fetch(inventory_url, count_and_seen)
    assert fetch(inventory_url, "SELECT count(*) AS n FROM connector_profile_versions") == versions
    assert versions == [{"n": 8}]
    assert after[0]["n"] == before[0]["n"] == 8
    assert str(after[0]["seen"]) > str(before[0]["seen"])


def test_create_update_delete_restore_across_runs(inventory_url: str) -> None:
    """Profiles that appear, change, vanish and come back become created, updated, deleted
    and restored versions, chained."""
    east, west = profiles(EAST, 6, 3), profiles(WEST, 2, 4)
    run(inventory_url, 1, {EAST: east, WEST: west})
    victim, changed = east[:2]
    changed_now = {**changed, "connectionMode": "Private", "lastUpdatedAt": 1_800_000_000.5}
    fresh = make_profile("Slack", "brand-new", ACCOUNT, WEST.region, random.Random(1))
    run(inventory_url, 2, {EAST: [changed_now, *east[2:]], WEST: [*west, fresh]})
    run(inventory_url, 3, {EAST: [victim, changed_now, *east[2:]], WEST: [*west, fresh]})

    victim_history = history(inventory_url, victim["connectorProfileArn"])
    assert [(v["version"], v["change_type"]) for v in victim_history] == [
        (1, "created"),
        (2, "deleted"),
        (3, "restored"),
    ]
    assert [v["valid_to"] is None for v in victim_history] == [False, False, True]
    changed_history = history(inventory_url, changed["connectorProfileArn"])
    assert [v["change_type"] for v in changed_history] == ["created", "updated"]
    assert as_json(changed_history[1]["changed_fields"]) == sorted(
        {"connectionMode", "lastUpdatedAt"}
        if changed.get("connectionMode") != "Private"
        else {"lastUpdatedAt"}
    )
    assert [v["change_type"] for v in history(inventory_url, fresh["connectorProfileArn"])] == [
        "created"
    ]
    truth = {str(p["connectorProfileArn"]) for p in [victim, changed_now, *east[2:], *west, fresh]}
    assert live(inventory_url) == truth
    row = fetch(
        inventory_url,
        "SELECT deleted_at FROM connector_profiles WHERE connector_profile_arn = :arn",
        arn=victim["connectorProfileArn"],
    )
    assert row == [{"deleted_at": None}]
    assert_history_consistent(inventory_url)
