"""`collector run` end to end: the CLI against the simulator, into SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import random
from datetime import UTC, datetime

import pytest

from collector.simulator import (
    PROFILES,
    Faults,
    Organization,
    Simulator,
    generate_organization,
    make_profile,
)

from ..support import Cli, as_json, fetch

REGIONS = ("us-east-1", "eu-west-1")
ON_SQLITE = pytest.mark.parametrize("inventory_url", ["sqlite"], indirect=True)
"""The CLI's end of a store behaviour, on SQLite (the store's tests cover both databases)."""
SPECIAL_NAMES = ("team/sales+crm=prod", "ops@eu#1", "a.b-c_d!e/f+g=h@i#j")


@pytest.fixture
def org() -> Organization:
    """Six accounts in two regions, with awkward names and a connector type AWS adds later."""
    organization = generate_organization(
        seed=11, accounts=6, empty_fraction=0.3, profiles_per_scope=(1, 45), regions=REGIONS
    )
    account = organization.account_list()[1].id
    rng = random.Random(3)
    for name in SPECIAL_NAMES:
        organization.put(
            PROFILES,
            account,
            "us-east-1",
            make_profile("Salesforce", name, account, "us-east-1", rng),
        )
    organization.put(
        PROFILES,
        account,
        "eu-west-1",
        make_profile(
            "Glue",
            "future-connector",
            account,
            "eu-west-1",
            rng,
            connectorProfileProperties={"Glue": {"catalogId": "123", "nested": {"k": [1, 2]}}},
        ),
    )
    return organization


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=5)


def truth(org: Organization) -> dict[str, dict[str, object]]:
    """Every profile the simulated organization holds, by ARN."""
    return {
        str(p["connectorProfileArn"]): p
        for account in org.account_list()
        for region in REGIONS
        for p in org.items(PROFILES, account.id, region)
    }


def stored(url: str, *, live: bool = True) -> set[str]:
    where = "WHERE deleted_at IS NULL" if live else ""
    rows = fetch(url, f"SELECT connector_profile_arn FROM connector_profiles {where}")
    return {r["connector_profile_arn"] for r in rows}


def test_clean_run_stores_every_profile(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A clean run exits 0 and stores exactly the organization's profiles, as version 1."""
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    expected = truth(org)
    assert stored(inventory_url) == set(expected)
    versions = fetch(inventory_url, "SELECT change_type, version FROM connector_profile_versions")
    assert len(versions) == len(expected)
    assert {(v["change_type"], v["version"]) for v in versions} == {("created", 1)}
    scopes = fetch(inventory_url, "SELECT status, attempts, pages FROM collection_scopes")
    assert len(scopes) == len(org.account_list()) * len(REGIONS)
    assert {s["status"] for s in scopes} == {"succeeded"}
    run = fetch(inventory_url, "SELECT * FROM collection_runs")
    assert [r["status"] for r in run] == ["succeeded"]
    assert run[0]["profiles_created"] == len(expected)


def test_a_run_leaves_the_garbage_collector_as_it_found_it(
    sqlite_url: str, sim: Simulator, cli: Cli
) -> None:
    """A run freezes the heap it starts with and collects less often, then undoes both: a
    process that runs the collector again and again (an embedding program, these tests)
    would otherwise pin every object alive at each run's start for good."""
    frozen, thresholds = gc.get_freeze_count(), gc.get_threshold()
    assert cli.collect(sqlite_url, sim, REGIONS).code == 0
    assert gc.get_freeze_count() == frozen
    assert gc.get_threshold() == thresholds


def test_columns_match_what_the_api_returned(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Each row's columns, properties and snapshot carry what the API said, times in UTC."""
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    rows = {
        r["connector_profile_arn"]: r
        for r in fetch(inventory_url, "SELECT * FROM connector_profiles")
    }
    for arn, profile in truth(org).items():
        row = rows[arn]
        assert row["connector_profile_name"] == profile["connectorProfileName"]
        assert row["connector_type"] == profile["connectorType"]
        assert row["connection_mode"] == profile.get("connectionMode")
        assert row["credentials_arn"] == profile.get("credentialsArn")
        assert row["connector_label"] == profile.get("connectorLabel")
        assert as_json(row["properties"]) == profile.get("connectorProfileProperties", {})
        created = profile.get("createdAt")
        if created is None:
            assert row["created_at"] is None
        else:
            stamp = row["created_at"]
            stamp = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(stamp)
            expected = datetime.fromtimestamp(float(created), UTC)  # type: ignore[arg-type]
            assert stamp.replace(tzinfo=UTC) == expected
        state = profile.get("privateConnectionProvisioningState") or {}
        assert isinstance(state, dict)
        assert row["private_connection_status"] == state.get("status")
        assert row["private_connection_failure_cause"] == state.get("failureCause")


def test_special_names_and_unknown_types_are_stored(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Names with / + = @ # round-trip, and an unlisted connector type is stored, not dropped."""
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    names = {
        r["connector_profile_name"]
        for r in fetch(inventory_url, "SELECT connector_profile_name FROM connector_profiles")
    }
    assert set(SPECIAL_NAMES) <= names
    glue = fetch(
        inventory_url, "SELECT properties FROM connector_profiles WHERE connector_type = 'Glue'"
    )
    assert [as_json(r["properties"]) for r in glue] == [
        {"Glue": {"catalogId": "123", "nested": {"k": [1, 2]}}}
    ]
    leaves = fetch(
        inventory_url,
        "SELECT path, value FROM connector_profile_properties "
        "WHERE connector = 'Glue' ORDER BY path",
    )
    assert leaves == [
        {"path": "catalogId", "value": "123"},
        {"path": "nested.k", "value": "[1, 2]"},
    ]


# The store end of it, on both databases: tests/integration/test_history.py.
@ON_SQLITE
def test_rerun_without_change_writes_no_versions(
    inventory_url: str, sim: Simulator, cli: Cli
) -> None:
    """A second run with nothing changed in AWS adds no version rows but moves last_seen_at."""
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    before = fetch(
        inventory_url, "SELECT count(*) AS n, max(last_seen_at) AS seen FROM connector_profiles"
    )
    versions = fetch(inventory_url, "SELECT count(*) AS n FROM connector_profile_versions")
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    after = fetch(
        inventory_url, "SELECT count(*) AS n, max(last_seen_at) AS seen FROM connector_profiles"
    )
    assert fetch(inventory_url, "SELECT count(*) AS n FROM connector_profile_versions") == versions
    assert after[0]["n"] == before[0]["n"]
    assert str(after[0]["seen"]) > str(before[0]["seen"])


# The store end of it, on both databases: tests/integration/test_history.py.
@ON_SQLITE
def test_create_update_delete_restore_across_runs(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Changes in AWS become created, updated, deleted and restored versions, chained."""
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    account = org.account_list()[1].id
    victim, changed = org.items(PROFILES, account, "us-east-1")[:2]
    org.delete(PROFILES, account, "us-east-1", str(victim["connectorProfileName"]))
    org.put(
        PROFILES,
        account,
        "us-east-1",
        {**changed, "connectionMode": "Private", "lastUpdatedAt": 1_800_000_000.5},
    )
    fresh = make_profile("Slack", "brand-new", account, "eu-west-1", random.Random(1))
    org.put(PROFILES, account, "eu-west-1", fresh)
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    org.put(PROFILES, account, "us-east-1", victim)
    assert cli.collect(inventory_url, sim, REGIONS).code == 0

    def history(arn: object) -> list[dict[str, object]]:
        return fetch(
            inventory_url,
            "SELECT version, change_type, valid_to, changed_fields "
            "FROM connector_profile_versions WHERE connector_profile_arn = :arn "
            "ORDER BY version",
            arn=arn,
        )

    victim_history = history(victim["connectorProfileArn"])
    assert [(v["version"], v["change_type"]) for v in victim_history] == [
        (1, "created"),
        (2, "deleted"),
        (3, "restored"),
    ]
    assert [v["valid_to"] is None for v in victim_history] == [False, False, True]
    changed_history = history(changed["connectorProfileArn"])
    assert [v["change_type"] for v in changed_history] == ["created", "updated"]
    assert as_json(changed_history[1]["changed_fields"]) == sorted(
        {"connectionMode", "lastUpdatedAt"}
        if changed.get("connectionMode") != "Private"
        else {"lastUpdatedAt"}
    )
    assert [v["change_type"] for v in history(fresh["connectorProfileArn"])] == ["created"]
    assert stored(inventory_url) == set(truth(org))
    row = fetch(
        inventory_url,
        "SELECT deleted_at FROM connector_profiles WHERE connector_profile_arn = :arn",
        arn=victim["connectorProfileArn"],
    )
    assert row == [{"deleted_at": None}]


def test_failing_scope_and_denied_account_are_recorded_not_deleted(
    inventory_url: str, org: Organization, faults: Faults, sim: Simulator, cli: Cli
) -> None:
    """Failed scopes exit 1, are recorded with their class, and delete nothing."""
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    accounts = [a.id for a in org.account_list()]
    throttled, denied = accounts[1], accounts[2]
    for account in (throttled, denied):
        for region in REGIONS:
            for profile in org.items(PROFILES, account, region):
                org.delete(PROFILES, account, region, str(profile["connectorProfileName"]))
    faults.failing_scopes[(throttled, "us-east-1")] = "ThrottlingException"
    faults.failing_scopes[(throttled, "eu-west-1")] = "InternalServerException"
    faults.deny_assume_role.add(denied)

    assert cli.collect(inventory_url, sim, REGIONS, "--max-attempts", "2").code == 1

    scopes = fetch(
        inventory_url,
        "SELECT s.account_id, s.region, s.status, s.error_code, "
        "s.aws_error_code, s.attempts FROM collection_scopes s "
        "JOIN collection_runs r USING (run_id) WHERE r.status = 'partial'",
    )
    failed = {(s["account_id"], s["region"]): s for s in scopes if s["status"] == "failed"}
    assert set(failed) == {(a, r) for a in (throttled, denied) for r in REGIONS}
    assert failed[(throttled, "us-east-1")]["error_code"] == "throttled"
    assert failed[(throttled, "us-east-1")]["attempts"] == 2
    assert failed[(throttled, "eu-west-1")]["error_code"] == "server_error"
    assert {failed[(denied, r)]["error_code"] for r in REGIONS} == {"assume_role_failed"}
    deleted = fetch(
        inventory_url, "SELECT count(*) AS n FROM connector_profiles WHERE deleted_at IS NOT NULL"
    )
    assert deleted == [{"n": 0}]


def test_targeted_refresh_never_deletes(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A --profile-name or --connector-type run updates what it sees and deletes nothing."""
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    account = org.account_list()[1].id
    gone = org.items(PROFILES, account, "us-east-1")[0]
    org.delete(PROFILES, account, "us-east-1", str(gone["connectorProfileName"]))
    assert (
        cli.collect(
            inventory_url,
            sim,
            REGIONS,
            "--profile-name",
            SPECIAL_NAMES[0],
            "--profile-name",
            SPECIAL_NAMES[1],
        ).code
        == 0
    )
    assert cli.collect(inventory_url, sim, REGIONS, "--connector-type", "Salesforce").code == 0
    assert gone["connectorProfileArn"] in stored(inventory_url)
    runs = fetch(inventory_url, "SELECT filtered FROM collection_runs ORDER BY started_at")
    assert [bool(r["filtered"]) for r in runs] == [False, True, True]
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    assert gone["connectorProfileArn"] not in stored(inventory_url)
