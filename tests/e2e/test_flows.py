"""Flows end to end: the CLI against the simulator, into SQLite and PostgreSQL.

Flows are listed with their history, linked to the connector profiles they name, described
only when new or changed, and marked deleted only by a complete listing of their scope.
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from collector.simulator import (
    FLOWS,
    PROFILES,
    Burst,
    End,
    Faults,
    Flow,
    Organization,
    Simulator,
    generate_organization,
    make_flow,
    make_profile,
    revise_flow,
)

from ..support import Cli, as_json, execute, fetch

REGIONS = ("us-east-1", "eu-west-1")
Link = tuple[str, str, int, str, str | None]  # flow ARN, role, position, name, profile ARN


@pytest.fixture
def org() -> Organization:
    """Three accounts in two regions, every scope holding profiles and flows (one page of
    each, so calls can be counted), some flows naming profiles that do not exist."""
    return generate_organization(
        seed=71,
        accounts=3,
        empty_fraction=0.0,
        profiles_per_scope=(2, 6),
        regions=REGIONS,
        short_page_fraction=0.0,
        flows_per_profile=1.0,
        missing_profile_fraction=0.2,
    )


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=3)


def scopes_of(org: Organization) -> list[tuple[str, str]]:
    return [(a.id, r) for a in org.account_list() for r in REGIONS]


def flow_truth(org: Organization) -> dict[str, Flow]:
    """Every flow of the organization, by ARN."""
    return {str(f["flowArn"]): f for _, f in org.all_items(FLOWS)}


def link_truth(org: Organization) -> set[Link]:
    """The links every flow should have: its named profiles, resolved within its scope."""
    links: set[Link] = set()
    for (account, region), flow in org.all_items(FLOWS):
        live = {
            str(p["connectorProfileName"]): str(p["connectorProfileArn"])
            for p in org.items(PROFILES, account, region)
        }
        ends = [("source", 0, flow["sourceFlowConfig"])]
        ends += [("destination", i, d) for i, d in enumerate(flow["destinationFlowConfigList"])]
        for role, position, config in ends:
            name = config.get("connectorProfileName")
            if name is not None:
                links.add((str(flow["flowArn"]), role, position, name, live.get(name)))
    return links


def stored_links(url: str) -> set[Link]:
    rows = fetch(url, "SELECT * FROM flow_connector_profiles")
    return {
        (
            r["flow_arn"],
            r["role"],
            r["position"],
            r["connector_profile_name"],
            r["connector_profile_arn"],
        )
        for r in rows
    }


def live_flows(url: str) -> set[str]:
    rows = fetch(url, "SELECT flow_arn FROM flows WHERE deleted_at IS NULL")
    return {r["flow_arn"] for r in rows}


def versions(url: str) -> dict[str, list[str]]:
    """Each flow's change types, in version order."""
    rows = fetch(url, "SELECT flow_arn, change_type FROM flow_versions ORDER BY flow_arn, version")
    return {
        arn: [r["change_type"] for r in chain]
        for arn, chain in itertools.groupby(rows, key=lambda r: r["flow_arn"])
    }


def flow_resources(url: str) -> list[dict[str, Any]]:
    """The flows rows of `collection_scope_resources` of the latest run."""
    return fetch(
        url,
        "SELECT * FROM collection_scope_resources WHERE resource = 'flows' AND run_id = "
        "(SELECT run_id FROM collection_runs ORDER BY started_at DESC LIMIT 1)",
    )


def as_time(value: datetime | str) -> datetime:
    """A timestamp column: a datetime on PostgreSQL, UTC text on SQLite."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def assert_flow_history_consistent(url: str) -> None:
    """Versions run 1..n, chain `valid_to` to the next `valid_from`, and end in the row's
    version and state."""
    rows = {r["flow_arn"]: r for r in fetch(url, "SELECT * FROM flows")}
    chains = fetch(url, "SELECT * FROM flow_versions ORDER BY flow_arn, version")
    for arn, group in itertools.groupby(chains, key=lambda r: r["flow_arn"]):
        chain = list(group)
        assert [v["version"] for v in chain] == list(range(1, len(chain) + 1)), arn
        for before, after in itertools.pairwise(chain):
            assert before["valid_to"] == after["valid_from"], arn
        assert chain[-1]["valid_to"] is None
        assert rows[arn]["version"] == chain[-1]["version"]
        assert rows[arn]["content_hash"] == chain[-1]["content_hash"]
        assert (rows[arn]["deleted_at"] is not None) == (chain[-1]["change_type"] == "deleted")


def plant_flow(
    org: Organization, key: tuple[str, str], name: str, source: str, destination: str | None
) -> Flow:
    """A Salesforce flow in `key` reading through profile `source`, writing to `destination`
    (None: S3)."""
    account, region = key
    flow = make_flow(
        name,
        account,
        region,
        random.Random(name),
        End("Salesforce", source),
        [End("Redshift", destination) if destination else End("S3")],
        status="Active",
    )
    org.put(FLOWS, account, region, flow)
    return flow


# --- listing and linking --------------------------------------------------------------------------


def test_flows_are_listed_and_linked_to_their_profiles(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A first run stores every flow once, with its columns and a `created` version, and
    links each profile it names to the live profile of that name in its scope, or to NULL."""
    result = cli.collect(inventory_url, sim, REGIONS)
    assert result.code == 0, result.err
    truth = flow_truth(org)
    assert len(truth) > 10
    assert live_flows(inventory_url) == set(truth)
    assert versions(inventory_url) == {arn: ["created"] for arn in truth}
    for row in fetch(inventory_url, "SELECT * FROM flows"):
        flow = truth[row["flow_arn"]]
        assert row["flow_name"] == flow["flowName"]
        assert row["flow_status"] == flow["flowStatus"]
        assert row["trigger_type"] == flow["triggerConfig"]["triggerType"]
        assert row["source_connector_type"] == flow["sourceFlowConfig"]["connectorType"]
        assert row["kms_arn"] == flow["kmsArn"]
        assert row["last_run_status"] == flow.get("lastRunExecutionDetails", {}).get(
            "mostRecentExecutionStatus"
        )
        details = as_json(row["details"])
        assert details["sourceFlowConfig"] == flow["sourceFlowConfig"]
        assert "lastRunExecutionDetails" not in details
    links = link_truth(org)
    assert stored_links(inventory_url) == links
    assert any(link[4] is None for link in links)  # a profile that does not exist
    assert any(link[4] is not None for link in links)
    run = fetch(inventory_url, "SELECT * FROM collection_runs")[0]
    assert (run["flows_seen"], run["flows_created"], run["resources"]) == (
        len(truth),
        len(truth),
        "profiles,flows,connectors",
    )
    assert f"flows: {len(truth)} seen; {len(truth)} created" in result.out


def test_show_export_and_history_read_flows(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """`show --resource flows` (now, at a moment, for an account), `export --resource flows`
    and `history FLOW_ARN` read the flows a run stored."""
    before = datetime.now(UTC)
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    truth = flow_truth(org)
    show = ["show", "--database-url", inventory_url, "--resource", "flows", "--format", "json"]
    earlier = cli.run([*show, "--as-of", before.isoformat()])
    assert (earlier.code, json.loads(earlier.out)) == (0, [])
    account = org.account_list()[1].id
    one = cli.run([*show, "--account", account])
    assert {r["flow_arn"] for r in json.loads(one.out)} == {
        arn for arn in truth if arn.split(":")[4] == account
    }
    shown = cli.run(
        ["show", "--database-url", inventory_url, "--resource", "flows", "--format", "json"]
    )
    assert shown.code == 0, shown.err
    rows = json.loads(shown.out)
    assert {r["flow_arn"] for r in rows} == set(truth)
    assert all(r["version"] == 1 and r["snapshot"]["flowName"] for r in rows)
    exported = cli.run(["export", "--database-url", inventory_url, "--resource", "flows"])
    assert exported.code == 0, exported.err
    lines = [json.loads(line) for line in exported.out.splitlines()]
    assert {line["flow_arn"] for line in lines} == set(truth)
    assert {"tags", "details", "last_run_at", "definition_hash"} <= lines[0].keys()
    arn = sorted(truth)[0]
    history = cli.run(["history", "--database-url", inventory_url, arn, "--format", "json"])
    assert history.code == 0, history.err
    (version,) = json.loads(history.out)
    assert (version["version"], version["change_type"]) == (1, "created")
    assert version["snapshot"]["flowArn"] == arn


# --- the incremental DescribeFlow ----------------------------------------------------------------


def test_an_unchanged_rerun_lists_one_page_per_scope_and_describes_nothing(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Over an unchanged fleet a rerun makes one ListFlows call per scope and no DescribeFlow,
    writes no version, and still moves every flow's `last_seen_at`."""
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    first_seen = {
        r["flow_arn"]: r["last_seen_at"] for r in fetch(inventory_url, "SELECT * FROM flows")
    }
    assert sim.stats.count("appflow", "DescribeFlow") == len(flow_truth(org))
    sim.stats.reset()
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    assert sim.stats.count("appflow", "ListFlows") == len(scopes_of(org))
    for scope in scopes_of(org):
        assert sim.stats.scope_count(scope, "ListFlows") == 1
    assert sim.stats.count("appflow", "DescribeFlow") == 0
    assert all(chain == ["created"] for chain in versions(inventory_url).values())
    for row in fetch(inventory_url, "SELECT * FROM flows"):
        assert row["last_seen_at"] > first_seen[row["flow_arn"]]
    assert {r["complete"] for r in flow_resources(inventory_url)} == {True}


def test_only_new_and_changed_flows_are_described(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A flow updated (new `lastUpdatedAt`), one suspended without an update and one new
    are described, each once; a flow that only ran is not, and makes no version, but its
    last run is stored."""
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    (key, updated), (key2, suspended), (key3, ran) = org.all_items(FLOWS)[:3]
    org.put(FLOWS, *key, revise_flow(updated, random.Random(1), 1_900_000_000.0))
    org.put(FLOWS, *key2, {**suspended, "flowStatus": "Suspended"})
    run = {"mostRecentExecutionStatus": "Error", "mostRecentExecutionTime": 1_900_000_500.0}
    org.put(FLOWS, *key3, {**ran, "lastRunExecutionDetails": run})
    new = plant_flow(org, key, "brand-new-flow", "nobody", None)
    sim.stats.reset()
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    assert sim.stats.count("appflow", "DescribeFlow") == 3
    chains = versions(inventory_url)
    assert chains[updated["flowArn"]] == ["created", "updated"]
    assert chains[suspended["flowArn"]] == ["created", "updated"]
    assert chains[ran["flowArn"]] == ["created"]
    assert chains[new["flowArn"]] == ["created"]
    changed = fetch(
        inventory_url,
        "SELECT flow_arn, changed_fields FROM flow_versions WHERE change_type = 'updated'",
    )
    fields = {r["flow_arn"]: as_json(r["changed_fields"]) for r in changed}
    assert fields[suspended["flowArn"]] == ["flowStatus"]
    assert "lastUpdatedAt" in fields[updated["flowArn"]]
    row = fetch(inventory_url, "SELECT * FROM flows WHERE flow_arn = :a", a=ran["flowArn"])[0]
    assert row["last_run_status"] == "Error"
    assert as_time(row["last_run_at"]) == datetime.fromtimestamp(1_900_000_500.0, UTC)
    status = fetch(
        inventory_url, "SELECT flow_status FROM flows WHERE flow_arn = :a", a=suspended["flowArn"]
    )
    assert status == [{"flow_status": "Suspended"}]
    assert_flow_history_consistent(inventory_url)


def test_flows_described_long_ago_are_described_again_without_a_new_version(
    database_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A flow whose last description is older than `--describe-max-age` is described again
    although its ListFlows entry is unchanged: a change only DescribeFlow shows (a new
    status message) becomes a version; an unchanged one only moves `described_at`."""
    assert cli.collect(database_url, sim, REGIONS).code == 0
    (key, changed), (_, same) = org.all_items(FLOWS)[:2]
    old = datetime(2020, 1, 1, tzinfo=UTC)
    for arn in (changed["flowArn"], same["flowArn"]):
        assert fetch(database_url, "SELECT 1 AS one FROM flows WHERE flow_arn = :a", a=arn)
        postgres_or_sqlite_update(database_url, arn, old)
    # What only DescribeFlow says: its ListFlows definition has no such member.
    org.put(FLOWS, *key, {**changed, "flowStatusMessage": "credentials expired"})
    sim.stats.reset()
    assert cli.collect(database_url, sim, REGIONS, "--describe-max-age", "86400").code == 0
    assert sim.stats.count("appflow", "DescribeFlow") == 2
    chains = versions(database_url)
    assert chains[changed["flowArn"]] == ["created", "updated"]
    assert chains[same["flowArn"]] == ["created"]
    for arn in (changed["flowArn"], same["flowArn"]):
        (row,) = fetch(database_url, "SELECT described_at FROM flows WHERE flow_arn = :a", a=arn)
        assert as_time(row["described_at"]) > old
    sim.stats.reset()
    assert cli.collect(database_url, sim, REGIONS).code == 0
    assert sim.stats.count("appflow", "DescribeFlow") == 0


def postgres_or_sqlite_update(url: str, arn: str, described: datetime) -> None:
    """Date a flow's last description back, as if it were made long ago."""
    # SQLite keeps UTC text, PostgreSQL timestamptz.
    stamp = described if url.startswith("postgresql") else described.strftime("%Y-%m-%d %H:%M:%S")
    execute(url, "UPDATE flows SET described_at = :t WHERE flow_arn = :a", t=stamp, a=arn)


# --- links over time ------------------------------------------------------------------------------


def test_links_follow_profiles_created_after_and_deleted_before(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A flow naming a profile that does not exist yet is linked once the profile appears,
    without being described again; a deleted profile's links go NULL."""
    key = scopes_of(org)[0]
    account, region = key
    kept = org.items(PROFILES, account, region)[0]
    flow = plant_flow(org, key, "early-flow", "later-crm", str(kept["connectorProfileName"]))
    arn = str(flow["flowArn"])

    def links() -> dict[str, str | None]:
        return {link[3]: link[4] for link in stored_links(inventory_url) if link[0] == arn}

    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    assert links() == {"later-crm": None, kept["connectorProfileName"]: kept["connectorProfileArn"]}
    later = make_profile("Salesforce", "later-crm", account, region, random.Random(2))
    org.put(PROFILES, account, region, later)
    sim.stats.reset()
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    assert sim.stats.count("appflow", "DescribeFlow") == 0
    assert links() == {
        "later-crm": later["connectorProfileArn"],
        kept["connectorProfileName"]: kept["connectorProfileArn"],
    }
    org.delete(PROFILES, account, region, str(kept["connectorProfileName"]))
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    assert links() == {
        "later-crm": later["connectorProfileArn"],
        kept["connectorProfileName"]: None,
    }
    assert stored_links(inventory_url) == link_truth(org)


# --- deletions only from complete listings --------------------------------------------------------


def test_a_failed_flow_listing_deletes_no_flow(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """While ListFlows fails, a flow gone from AWS is not marked deleted, and the scope's
    profiles are still listed (and deleted) on their own; the next complete listing deletes
    the flow."""
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    (account, region), gone = org.all_items(FLOWS)[0]
    org.delete(FLOWS, account, region, str(gone["flowName"]))
    profile = org.items(PROFILES, account, region)[-1]
    org.delete(PROFILES, account, region, str(profile["connectorProfileName"]))
    sim.faults.bursts["appflow:ListFlows"] = Burst("server_error")
    failed = cli.collect(inventory_url, sim, REGIONS, "--max-attempts", "2")
    assert failed.code == 1
    assert gone["flowArn"] in live_flows(inventory_url)
    resources = flow_resources(inventory_url)
    assert {(r["status"], r["complete"], r["error_code"]) for r in resources} == {
        ("failed", False, "server_error")
    }
    deleted = fetch(
        inventory_url,
        "SELECT deleted_at FROM connector_profiles WHERE connector_profile_arn = :a",
        a=profile["connectorProfileArn"],
    )
    assert deleted[0]["deleted_at"] is not None
    scopes = fetch(
        inventory_url,
        "SELECT status, complete FROM collection_scopes WHERE run_id = "
        "(SELECT run_id FROM collection_runs ORDER BY started_at DESC LIMIT 1)",
    )
    assert {(s["status"], s["complete"]) for s in scopes} == {("failed", False)}
    del sim.faults.bursts["appflow:ListFlows"]
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    assert live_flows(inventory_url) == set(flow_truth(org))
    assert versions(inventory_url)[gone["flowArn"]] == ["created", "deleted"]


def test_a_flow_that_vanishes_before_it_is_described_deletes_nothing(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A flow listed but gone by the time DescribeFlow asks is left out, and its scope's flow
    listing is incomplete: a flow deleted from AWS there is not marked deleted that run."""
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    key, gone = org.all_items(FLOWS)[0]
    org.delete(FLOWS, *key, str(gone["flowName"]))
    vanishing = plant_flow(org, key, "short-lived", "nobody", None)
    sim.faults.vanishing.add(str(vanishing["flowArn"]))
    result = cli.collect(inventory_url, sim, REGIONS)
    assert result.code == 0, result.err
    live = live_flows(inventory_url)
    assert gone["flowArn"] in live
    assert vanishing["flowArn"] not in live
    rows = {(r["account_id"], r["region"]): r for r in flow_resources(inventory_url)}
    assert (rows[key]["status"], rows[key]["complete"]) == ("succeeded", False)
    assert all(r["complete"] for k, r in rows.items() if k != key)
    sim.faults.vanishing.clear()
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    assert live_flows(inventory_url) == set(flow_truth(org))


def test_a_flow_that_cannot_be_described_fails_only_the_flow_listing(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """DescribeFlow throttled for good fails the scope's flow listing as `throttled`, after
    --max-attempts calls, and deletes no flow; the profiles of the scope are stored."""
    assert cli.collect(sqlite_url, sim, REGIONS).code == 0
    key, gone = org.all_items(FLOWS)[0]
    org.delete(FLOWS, *key, str(gone["flowName"]))
    plant_flow(org, key, "needs-describing", "nobody", None)
    sim.faults.bursts["appflow:DescribeFlow"] = Burst("throttle")
    sim.stats.reset()
    result = cli.collect(sqlite_url, sim, REGIONS, "--max-attempts", "2")
    assert result.code == 1
    assert sim.stats.count("appflow", "DescribeFlow") == 2
    rows = {(r["account_id"], r["region"]): r for r in flow_resources(sqlite_url)}
    assert (rows[key]["status"], rows[key]["error_code"]) == ("failed", "throttled")
    assert gone["flowArn"] in live_flows(sqlite_url)
    profiles = fetch(
        sqlite_url,
        "SELECT status, profiles FROM collection_scopes WHERE run_id = "
        "(SELECT run_id FROM collection_runs ORDER BY started_at DESC LIMIT 1) "
        "AND account_id = :a AND region = :r",
        a=key[0],
        r=key[1],
    )
    assert profiles == [{"status": "failed", "profiles": len(org.items(PROFILES, *key))}]


# --- history --------------------------------------------------------------------------------------


def test_flow_history_records_every_change(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A flow updated, deleted and restored gets `created`, `updated`, `deleted` and
    `restored` versions, which `history` and `changes --resource flows` show; a flow that
    only ran gets none."""
    before = datetime.now(UTC)
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    (key, flow), (key2, runner) = org.all_items(FLOWS)[:2]
    arn = str(flow["flowArn"])
    org.put(FLOWS, *key, revise_flow(flow, random.Random(5), 1_900_000_000.0))
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    org.delete(FLOWS, *key, str(flow["flowName"]))
    org.put(
        FLOWS,
        *key2,
        {**runner, "lastRunExecutionDetails": {"mostRecentExecutionStatus": "InProgress"}},
    )
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    org.put(FLOWS, *key, revise_flow(flow, random.Random(5), 1_900_000_000.0))
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    history = cli.run(["history", "--database-url", inventory_url, arn, "--format", "json"])
    assert history.code == 0, history.err
    shown = json.loads(history.out)
    assert [v["change_type"] for v in shown] == ["created", "updated", "deleted", "restored"]
    assert shown[2]["snapshot"] == shown[1]["snapshot"]  # a deletion keeps the last state
    assert shown[3]["snapshot"] == shown[1]["snapshot"]
    assert versions(inventory_url)[runner["flowArn"]] == ["created"]
    assert_flow_history_consistent(inventory_url)
    runs = fetch(
        inventory_url,
        "SELECT flows_created, flows_updated, flows_deleted, flows_restored "
        "FROM collection_runs ORDER BY started_at",
    )
    assert [tuple(r.values()) for r in runs][1:] == [(0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)]
    changes = ["changes", "--database-url", inventory_url, "--since", before.isoformat()]
    listed = cli.run([*changes, "--resource", "flows", "--format", "json"])
    assert listed.code == 0, listed.err
    rows = json.loads(listed.out)
    mine = [r for r in rows if r["flow_arn"] == arn]
    assert [r["change_type"] for r in mine] == ["restored", "deleted", "updated", "created"]
    assert mine[0]["flow_name"] == flow["flowName"]
    assert mine[2]["changed_fields"]  # the revision names what it changed
    assert {r["flow_arn"] for r in rows} == set(versions(inventory_url))
    one = cli.run([*changes, "--resource", "flows", "--account", key2[0], "--format", "json"])
    assert {r["account_id"] for r in json.loads(one.out)} == {key2[0]}
    profiles = cli.run([*changes, "--format", "json"])  # profiles by default
    assert all("flow_arn" not in r for r in json.loads(profiles.out))


# --- which resources ------------------------------------------------------------------------------


def test_resources_profiles_makes_only_the_profile_calls(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """`--resources profiles` makes exactly the calls of a profiles-only inventory (one
    DescribeConnectorProfiles page per scope, no flow call) and stores no flow."""
    result = cli.collect(inventory_url, sim, REGIONS, "--resources", "profiles")
    assert result.code == 0, result.err
    appflow = {op: n for (service, op), n in sim.stats.operations.items() if service == "appflow"}
    assert appflow == {"DescribeConnectorProfiles": len(scopes_of(org))}
    run = fetch(inventory_url, "SELECT requests, resources, flows_seen FROM collection_runs")[0]
    accounts = len(org.account_list())
    # GetCallerIdentity, one ListAccounts page, an AssumeRole per account, a page per scope.
    assert run == {
        "requests": 1 + 1 + accounts + len(scopes_of(org)),
        "resources": "profiles",
        "flows_seen": 0,
    }
    assert fetch(inventory_url, "SELECT count(*) AS n FROM flows") == [{"n": 0}]
    resources = fetch(inventory_url, "SELECT DISTINCT resource FROM collection_scope_resources")
    assert resources == [{"resource": "profiles"}]
    assert "flows:" not in result.out


def test_a_targeted_refresh_lists_flows_only_when_asked(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A profile filter refreshes profiles alone; with `--resources profiles,flows` the flows
    are listed too, in full."""
    account, region = scopes_of(org)[0]
    name = str(org.items(PROFILES, account, region)[0]["connectorProfileName"])
    assert cli.collect(sqlite_url, sim, REGIONS, "--profile-name", name).code == 0
    assert sim.stats.count("appflow", "ListFlows") == 0
    sim.stats.reset()
    both = cli.collect(
        sqlite_url, sim, REGIONS, "--profile-name", name, "--resources", "profiles,flows"
    )
    assert both.code == 0, both.err
    assert sim.stats.count("appflow", "ListFlows") == len(scopes_of(org))
    assert live_flows(sqlite_url) == set(flow_truth(org))


def test_an_opt_in_region_not_enabled_skips_the_whole_scope(sqlite_url: str, cli: Cli) -> None:
    """In an opt-in region the account has not enabled, AppFlow's refusal of the first call
    skips the scope: flows are not asked for."""
    org = generate_organization(
        seed=72, accounts=2, regions=("us-east-1", "af-south-1"), opt_in_fraction=0.0
    )
    with Simulator(org) as sim:
        result = cli.collect(sqlite_url, sim, ("us-east-1", "af-south-1"))
        calls = {key: sim.stats.scopes[key] for key in sim.stats.scopes if key[1] == "af-south-1"}
        flow_calls = sim.stats.count("appflow", "ListFlows")
    assert result.code == 0, result.err
    assert set(calls.values()) == {1}
    assert flow_calls == len(org.account_list())  # us-east-1 only
    skipped = fetch(
        sqlite_url, "SELECT status, error_code FROM collection_scopes WHERE region = 'af-south-1'"
    )
    assert {(s["status"], s["error_code"]) for s in skipped} == {("skipped", "region_not_enabled")}


# --- bounded input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "aws_code", "calls"),
    [("repeat_token_scopes", "RepeatedNextToken", 2), ("deep_json_scopes", "InvalidResponse", 1)],
)
def test_broken_flow_pages_fail_only_the_flow_listing(
    sqlite_url: str,
    org: Organization,
    sim: Simulator,
    cli: Cli,
    fault: str,
    aws_code: str,
    calls: int,
) -> None:
    """A looping `nextToken` or hostile JSON in ListFlows fails that scope's flow listing as
    `invalid_response`, not retried as weather; its profiles are stored."""
    key = scopes_of(org)[1]
    sim.faults.paging_fault_operations = {"ListFlows"}
    getattr(sim.faults, fault)[key] = 1 if fault == "repeat_token_scopes" else 5000
    result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 1
    assert sim.stats.scope_count(key, "ListFlows") == calls
    rows = {(r["account_id"], r["region"]): r for r in flow_resources(sqlite_url)}
    assert (rows[key]["error_code"], rows[key]["aws_error_code"]) == ("invalid_response", aws_code)
    stored = fetch(
        sqlite_url,
        "SELECT count(*) AS n FROM connector_profiles WHERE account_id = :a AND region = :r",
        a=key[0],
        r=key[1],
    )
    assert stored == [{"n": len(org.items(PROFILES, *key))}]
