"""Custom connectors end to end: the CLI against the simulator, into SQLite and PostgreSQL.

Registered custom connectors are listed with their history, described only when new or
changed, marked deleted (deregistered) only by a complete listing of their scope, and each
custom connector's profile is linked to the live registration of its label.
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from collector.simulator import (
    CONNECTORS,
    PROFILES,
    Burst,
    Connector,
    Faults,
    Organization,
    Simulator,
    generate_organization,
    make_connector,
    make_profile,
)

from ..support import Cli, as_json, fetch

REGIONS = ("us-east-1", "eu-west-1")
LABELS = ("ZohoCRM", "jira-cloud", "acme_erp")
Registration = tuple[str, str | None]  # profile ARN, the connector ARN it is linked to


@pytest.fixture
def org() -> Organization:
    """Three accounts in two regions, each scope holding profiles of three custom connectors,
    two of them registered there and one not, and a registration no profile uses."""
    organization = generate_organization(
        seed=91,
        accounts=3,
        empty_fraction=0.0,
        profiles_per_scope=(1, 3),
        regions=REGIONS,
        short_page_fraction=0.0,
        flows_per_profile=0.0,
    )
    rng = random.Random(91)
    for account, region in scopes_of(organization):
        for label in registered_labels(organization, account, region):
            organization.delete(CONNECTORS, account, region, label)
        for label in LABELS:
            profile = make_profile(
                "CustomConnector", f"{label}-profile", account, region, rng, connectorLabel=label
            )
            organization.put(PROFILES, account, region, profile)
        for label in (*LABELS[:2], "unused-one"):
            organization.put(
                CONNECTORS, account, region, make_connector(label, account, region, rng)
            )
    return organization


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=4)


def registered_labels(org: Organization, account: str, region: str) -> list[str]:
    """The labels registered in one scope."""
    return [str(c["connectorLabel"]) for c in org.items(CONNECTORS, account, region)]


def scopes_of(org: Organization) -> list[tuple[str, str]]:
    return [(a.id, r) for a in org.account_list() for r in REGIONS]


def connector_truth(org: Organization) -> dict[str, Connector]:
    """Every registered connector of the organization, by ARN."""
    return {str(c["connectorArn"]): c for _, c in org.all_items(CONNECTORS)}


def registration_truth(org: Organization) -> set[Registration]:
    """Every profile with the registration its label resolves to in its scope (or None)."""
    found: set[Registration] = set()
    for (account, region), profile in org.all_items(PROFILES):
        registered = {
            str(c["connectorLabel"]): str(c["connectorArn"])
            for c in org.items(CONNECTORS, account, region)
        }
        label = profile.get("connectorLabel")
        arn = registered.get(label) if isinstance(label, str) else None
        found.add((str(profile["connectorProfileArn"]), arn))
    return found


def stored_registrations(url: str) -> set[Registration]:
    rows = fetch(
        url,
        "SELECT connector_profile_arn, custom_connector_arn FROM connector_profiles "
        "WHERE deleted_at IS NULL",
    )
    return {(r["connector_profile_arn"], r["custom_connector_arn"]) for r in rows}


def live_connectors(url: str) -> set[str]:
    rows = fetch(url, "SELECT connector_arn FROM custom_connectors WHERE deleted_at IS NULL")
    return {r["connector_arn"] for r in rows}


def versions(url: str) -> dict[str, list[str]]:
    """Each connector's change types, in version order."""
    rows = fetch(
        url,
        "SELECT connector_arn, change_type FROM custom_connector_versions "
        "ORDER BY connector_arn, version",
    )
    return {
        arn: [r["change_type"] for r in chain]
        for arn, chain in itertools.groupby(rows, key=lambda r: r["connector_arn"])
    }


def connector_resources(url: str) -> list[dict[str, Any]]:
    """The connectors rows of `collection_scope_resources` of the latest run."""
    return fetch(
        url,
        "SELECT * FROM collection_scope_resources WHERE resource = 'connectors' AND run_id = "
        "(SELECT run_id FROM collection_runs ORDER BY started_at DESC LIMIT 1)",
    )


def as_time(value: datetime | str) -> datetime:
    """A timestamp column: a datetime on PostgreSQL, UTC text on SQLite."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def assert_history_consistent(url: str) -> None:
    """Versions run 1..n, chain `valid_to` to the next `valid_from`, and end in the row's
    version and state."""
    rows = {r["connector_arn"]: r for r in fetch(url, "SELECT * FROM custom_connectors")}
    chains = fetch(url, "SELECT * FROM custom_connector_versions ORDER BY connector_arn, version")
    for arn, group in itertools.groupby(chains, key=lambda r: r["connector_arn"]):
        chain = list(group)
        assert [v["version"] for v in chain] == list(range(1, len(chain) + 1)), arn
        for before, after in itertools.pairwise(chain):
            assert before["valid_to"] == after["valid_from"], arn
        assert chain[-1]["valid_to"] is None
        assert rows[arn]["version"] == chain[-1]["version"]
        assert rows[arn]["content_hash"] == chain[-1]["content_hash"]
        assert (rows[arn]["deleted_at"] is not None) == (chain[-1]["change_type"] == "deleted")


def revised(connector: Connector, version: str) -> Connector:
    """The connector registered again with a new version of its function."""
    function = connector["connectorProvisioningConfig"]["lambda"]["lambdaArn"]
    return {
        **connector,
        "connectorVersion": version,
        "registeredAt": 1_900_000_000.0,
        "connectorProvisioningConfig": {"lambda": {"lambdaArn": f"{function}:{version}"}},
    }


# --- listing and linking --------------------------------------------------------------------------


def test_connectors_are_listed_and_profiles_linked_to_them(
    database_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A first run stores every registered connector once, with its columns and a `created`
    version, and links each custom connector's profile to the live registration of its label
    in its scope, or to NULL."""
    result = cli.collect(database_url, sim, REGIONS)
    assert result.code == 0, result.err
    truth = connector_truth(org)
    assert len(truth) == 3 * len(scopes_of(org))
    assert live_connectors(database_url) == set(truth)
    assert versions(database_url) == {arn: ["created"] for arn in truth}
    for row in fetch(database_url, "SELECT * FROM custom_connectors"):
        connector = truth[row["connector_arn"]]
        assert row["connector_label"] == connector["connectorLabel"]
        assert row["connector_version"] == connector["connectorVersion"]
        assert row["connector_owner"] == connector["connectorOwner"]
        assert row["provisioning_type"] == "LAMBDA"
        assert row["lambda_arn"] == connector["connectorProvisioningConfig"]["lambda"]["lambdaArn"]
        assert row["registered_by"] == connector["registeredBy"]
        assert as_time(row["registered_at"]) == datetime.fromtimestamp(
            connector["registeredAt"], UTC
        )
        details = as_json(row["details"])
        assert details["applicationType"] == connector["applicationType"]  # the listing's
        assert details["authenticationConfig"] == connector["authenticationConfig"]  # described
    registrations = registration_truth(org)
    assert stored_registrations(database_url) == registrations
    assert any(arn is None for _, arn in registrations)  # a label not registered there
    assert any(arn is not None for _, arn in registrations)
    counts = fetch(
        database_url,
        "SELECT seen, created FROM collection_run_resources WHERE resource = 'connectors'",
    )
    assert counts == [{"seen": len(truth), "created": len(truth)}]
    assert f"connectors: {len(truth)} seen; {len(truth)} created" in result.out
    assert sim.stats.count("appflow", "DescribeConnector") == len(truth)


def test_show_export_changes_and_history_read_connectors(
    database_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """`show`, `export`, `changes` and `history` read the connectors a run stored."""
    before = datetime.now(UTC)
    assert cli.collect(database_url, sim, REGIONS).code == 0
    truth = connector_truth(org)
    common = ["--database-url", database_url, "--resource", "connectors", "--format", "json"]
    shown = cli.run(["show", *common])
    assert shown.code == 0, shown.err
    rows = json.loads(shown.out)
    assert {r["connector_arn"] for r in rows} == set(truth)
    assert {r["lambda_arn"] for r in rows} == {
        c["connectorProvisioningConfig"]["lambda"]["lambdaArn"] for c in truth.values()
    }
    exported = cli.run(["export", "--database-url", database_url, "--resource", "connectors"])
    lines = [json.loads(line) for line in exported.out.splitlines()]
    assert {line["connector_arn"] for line in lines} == set(truth)
    assert {"details", "summary_hash", "registered_at"} <= lines[0].keys()
    changes = cli.run(["changes", *common, "--since", before.isoformat()])
    assert {(r["connector_arn"], r["change_type"]) for r in json.loads(changes.out)} == {
        (arn, "created") for arn in truth
    }
    arn = sorted(truth)[0]
    history = cli.run(["history", "--database-url", database_url, arn, "--format", "json"])
    (version,) = json.loads(history.out)
    assert (version["version"], version["change_type"]) == (1, "created")
    assert version["snapshot"]["connectorArn"] == arn


# --- the incremental DescribeConnector -----------------------------------------------------------


def test_an_unchanged_rerun_lists_one_page_per_scope_and_describes_nothing(
    database_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Over unchanged registrations a rerun makes one ListConnectors call per scope and no
    DescribeConnector, writes no version, and still moves every `last_seen_at`."""
    assert cli.collect(database_url, sim, REGIONS).code == 0
    first_seen = {
        r["connector_arn"]: r["last_seen_at"]
        for r in fetch(database_url, "SELECT * FROM custom_connectors")
    }
    sim.stats.reset()
    assert cli.collect(database_url, sim, REGIONS).code == 0
    for scope in scopes_of(org):
        assert sim.stats.scope_count(scope, "ListConnectors") == 1
    assert sim.stats.count("appflow", "DescribeConnector") == 0
    assert all(chain == ["created"] for chain in versions(database_url).values())
    for row in fetch(database_url, "SELECT * FROM custom_connectors"):
        assert row["last_seen_at"] > first_seen[row["connector_arn"]]
    assert {r["complete"] for r in connector_resources(database_url)} == {True}


def test_only_new_and_changed_connectors_are_described(
    database_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A connector registered again with a new version and a newly registered one are
    described, each once; the update names what changed, and the profile of the newly
    registered label is linked to it."""
    assert cli.collect(database_url, sim, REGIONS).code == 0
    account, region = scopes_of(org)[0]
    old = org.item(CONNECTORS, account, region, LABELS[0])
    assert old is not None
    org.put(CONNECTORS, account, region, revised(old, "9.1"))
    new = make_connector(LABELS[2], account, region, random.Random(5))
    org.put(CONNECTORS, account, region, new)
    sim.stats.reset()
    assert cli.collect(database_url, sim, REGIONS).code == 0
    assert sim.stats.count("appflow", "DescribeConnector") == 2
    chains = versions(database_url)
    assert chains[old["connectorArn"]] == ["created", "updated"]
    assert chains[new["connectorArn"]] == ["created"]
    (update,) = fetch(
        database_url,
        "SELECT changed_fields FROM custom_connector_versions WHERE change_type = 'updated'",
    )
    assert as_json(update["changed_fields"]) == [
        "connectorProvisioningConfig.lambda.lambdaArn",
        "connectorVersion",
        "registeredAt",
    ]
    row = fetch(
        database_url,
        "SELECT connector_version FROM custom_connectors WHERE connector_arn = :a",
        a=old["connectorArn"],
    )
    assert row == [{"connector_version": "9.1"}]
    assert stored_registrations(database_url) == registration_truth(org)
    assert_history_consistent(database_url)


# --- links over time ------------------------------------------------------------------------------


def test_links_follow_registrations_made_after_and_removed_before(
    database_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A profile whose label is registered after it is linked on the next run, and a
    deregistered connector's profiles go NULL; the deregistration is a `deleted` version."""
    account, region = scopes_of(org)[1]
    profile_arn = f"arn:aws:appflow:{region}:{account}:connectorprofile/{LABELS[2]}-profile"

    def linked() -> str | None:
        return dict(stored_registrations(database_url))[profile_arn]

    assert cli.collect(database_url, sim, REGIONS).code == 0
    assert linked() is None
    later = make_connector(LABELS[2], account, region, random.Random(6))
    org.put(CONNECTORS, account, region, later)
    assert cli.collect(database_url, sim, REGIONS).code == 0
    assert linked() == later["connectorArn"]
    org.delete(CONNECTORS, account, region, LABELS[2])
    assert cli.collect(database_url, sim, REGIONS).code == 0
    assert linked() is None
    assert versions(database_url)[later["connectorArn"]] == ["created", "deleted"]
    assert stored_registrations(database_url) == registration_truth(org)
    assert_history_consistent(database_url)


# --- deletions only from complete listings --------------------------------------------------------


def test_a_failed_connector_listing_deletes_no_connector(
    database_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """While ListConnectors fails, a deregistered connector is not marked deleted and its
    profiles keep their link; the next complete listing deletes it."""
    assert cli.collect(database_url, sim, REGIONS).code == 0
    account, region = scopes_of(org)[0]
    gone = org.item(CONNECTORS, account, region, LABELS[1])
    assert gone is not None
    org.delete(CONNECTORS, account, region, LABELS[1])
    sim.faults.bursts["appflow:ListConnectors"] = Burst("server_error")
    failed = cli.collect(database_url, sim, REGIONS, "--max-attempts", "2")
    assert failed.code == 1
    assert gone["connectorArn"] in live_connectors(database_url)
    assert {
        (r["status"], r["complete"], r["error_code"]) for r in connector_resources(database_url)
    } == {("failed", False, "server_error")}
    del sim.faults.bursts["appflow:ListConnectors"]
    assert cli.collect(database_url, sim, REGIONS).code == 0
    assert live_connectors(database_url) == set(connector_truth(org))
    assert versions(database_url)[gone["connectorArn"]] == ["created", "deleted"]


def test_a_connector_deregistered_before_it_is_described_deletes_nothing(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A connector listed but gone by the time DescribeConnector asks is left out, and its
    scope's listing is incomplete: a connector deregistered there is not marked deleted."""
    assert cli.collect(sqlite_url, sim, REGIONS).code == 0
    key = scopes_of(org)[0]
    gone = org.item(CONNECTORS, *key, "unused-one")
    assert gone is not None
    org.delete(CONNECTORS, *key, "unused-one")
    vanishing = make_connector("short-lived", *key, random.Random(7))
    org.put(CONNECTORS, *key, vanishing)
    sim.faults.vanishing.add(str(vanishing["connectorArn"]))
    result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 0, result.err
    live = live_connectors(sqlite_url)
    assert gone["connectorArn"] in live
    assert vanishing["connectorArn"] not in live
    rows = {(r["account_id"], r["region"]): r for r in connector_resources(sqlite_url)}
    assert (rows[key]["status"], rows[key]["complete"]) == ("succeeded", False)
    assert all(r["complete"] for k, r in rows.items() if k != key)


def test_a_connector_that_cannot_be_described_fails_only_the_connector_listing(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """DescribeConnector throttled for good fails the scope's connector listing as
    `throttled` after --max-attempts calls, and deletes nothing; the scope's profiles are
    stored."""
    assert cli.collect(sqlite_url, sim, REGIONS).code == 0
    key = scopes_of(org)[0]
    org.delete(CONNECTORS, *key, "unused-one")
    org.put(CONNECTORS, *key, make_connector("needs-describing", *key, random.Random(8)))
    sim.faults.bursts["appflow:DescribeConnector"] = Burst("throttle")
    sim.stats.reset()
    result = cli.collect(sqlite_url, sim, REGIONS, "--max-attempts", "2")
    assert result.code == 1
    assert sim.stats.count("appflow", "DescribeConnector") == 2
    rows = {(r["account_id"], r["region"]): r for r in connector_resources(sqlite_url)}
    assert (rows[key]["status"], rows[key]["error_code"]) == ("failed", "throttled")
    assert len(live_connectors(sqlite_url)) == len(connector_truth(org))  # nothing deleted
    profiles = fetch(
        sqlite_url,
        "SELECT count(*) AS n FROM connector_profiles WHERE account_id = :a AND region = :r "
        "AND deleted_at IS NULL",
        a=key[0],
        r=key[1],
    )
    assert profiles == [{"n": len(org.items(PROFILES, *key))}]


def test_hostile_connector_pages_fail_only_the_connector_listing(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """JSON nested past the bound in a ListConnectors page fails that scope's connector
    listing as `invalid_response`, without retrying it; the scope's profiles are stored."""
    key = scopes_of(org)[1]
    sim.faults.paging_fault_operations = {"ListConnectors"}
    sim.faults.deep_json_scopes[key] = 5000
    result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 1
    assert sim.stats.scope_count(key, "ListConnectors") == 1
    rows = {(r["account_id"], r["region"]): r for r in connector_resources(sqlite_url)}
    assert (rows[key]["error_code"], rows[key]["aws_error_code"]) == (
        "invalid_response",
        "InvalidResponse",
    )
    stored = fetch(
        sqlite_url,
        "SELECT count(*) AS n FROM connector_profiles WHERE account_id = :a AND region = :r",
        a=key[0],
        r=key[1],
    )
    assert stored == [{"n": len(org.items(PROFILES, *key))}]


def test_resources_connectors_lists_connectors_alone(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """`--resources connectors` makes only the connector calls and stores no profile; the
    profiles stored later are linked to the registrations already stored."""
    result = cli.collect(sqlite_url, sim, REGIONS, "--resources", "connectors")
    assert result.code == 0, result.err
    appflow = {op for (service, op) in sim.stats.operations if service == "appflow"}
    assert appflow == {"ListConnectors", "DescribeConnector"}
    assert fetch(sqlite_url, "SELECT count(*) AS n FROM connector_profiles") == [{"n": 0}]
    assert live_connectors(sqlite_url) == set(connector_truth(org))
    assert cli.collect(sqlite_url, sim, REGIONS, "--resources", "profiles").code == 0
    assert stored_registrations(sqlite_url) == registration_truth(org)
