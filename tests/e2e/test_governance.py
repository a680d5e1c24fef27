"""An organization run with AWS's own governance, end to end: guardrail denies, the
management account without the member role, accounts that close, leave and come back."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from collector._model.run import RunStatus
from collector._model.scopes import Shard
from collector.simulator import (
    CONNECTORS,
    FLOWS,
    PROFILES,
    Burst,
    ExplicitDeny,
    Organization,
    Simulator,
    generate_organization,
    make_connector,
    make_profile,
    region_deny,
)

from ..support import ROLE, Cli, SharedClock, collect_on_clock, fetch, run_settings

REGIONS = ("us-east-1", "eu-west-1")
DENIED = "eu-west-1"


@pytest.fixture
def org() -> Organization:
    """Five accounts in two regions, every scope holding profiles, flows and a connector."""
    organization = generate_organization(
        seed=97,
        accounts=5,
        empty_fraction=0.0,
        profiles_per_scope=(1, 3),
        regions=REGIONS,
        short_page_fraction=0.0,
        flows_per_profile=1.0,
    )
    rng = random.Random(97)
    for account in organization.account_list():
        for region in REGIONS:
            profile = make_profile(
                "CustomConnector", "zoho", account.id, region, rng, connectorLabel="ZohoCRM"
            )
            organization.put(PROFILES, account.id, region, profile)
            connector = make_connector("ZohoCRM", account.id, region, rng)
            organization.put(CONNECTORS, account.id, region, connector)
    return organization


def members(org: Organization) -> list[str]:
    return [a.id for a in org.account_list() if a.id != org.management_account_id]


def latest_scopes(url: str) -> dict[tuple[str, str], dict[str, Any]]:
    rows = fetch(
        url,
        "SELECT * FROM collection_scopes WHERE run_id = "
        "(SELECT run_id FROM collection_runs ORDER BY started_at DESC LIMIT 1)",
    )
    return {(r["account_id"], r["region"]): r for r in rows}


def latest_run(url: str) -> dict[str, Any]:
    return fetch(url, "SELECT * FROM collection_runs ORDER BY started_at DESC LIMIT 1")[0]


def live(url: str, table: str, account: str) -> int:
    rows = fetch(
        url,
        f"SELECT count(*) AS n FROM {table} WHERE account_id = :a AND deleted_at IS NULL",
        a=account,
    )
    return int(rows[0]["n"])


def account_row(url: str, account: str) -> dict[str, Any]:
    (row,) = fetch(url, "SELECT state, left_at FROM accounts WHERE account_id = :a", a=account)
    return row


def change_types(url: str, versions: str, key: str, table: str, account: str) -> list[str]:
    """The change types of one account's records, version by version, per record."""
    rows = fetch(
        url,
        f"SELECT v.change_type, v.change_reason FROM {versions} v JOIN {table} t "
        f"USING ({key}) WHERE t.account_id = :a ORDER BY v.{key}, v.version",
        a=account,
    )
    return [f"{r['change_type']}:{r['change_reason'] or ''}" for r in rows]


# --- guardrails ---------------------------------------------------------------------------------


def test_a_region_deny_guardrail_skips_its_scopes_and_the_run_succeeds(
    database_url: str, org: Organization, sim: Simulator, cli: Cli, tmp_path: Any
) -> None:
    """Control Tower's region deny answers every member account's calls in a denied region
    with an explicit deny in an SCP: those scopes are skipped as `guardrail_deny`, counted in
    the summary and the metrics, and the run succeeds; the management account, which SCPs
    never apply to, is collected there."""
    org.policies.append(region_deny(frozenset({DENIED})))
    metrics = tmp_path / "collector.prom"
    result = cli.collect(database_url, sim, REGIONS, "--metrics-file", str(metrics))
    assert result.code == 0, result.err
    scopes = latest_scopes(database_url)
    for account in members(org):
        denied = scopes[(account, DENIED)]
        assert (denied["status"], denied["error_code"]) == ("skipped", "guardrail_deny")
        assert "explicit deny in a service control policy" in denied["error_message"]
        assert scopes[(account, "us-east-1")]["status"] == "succeeded"
    assert scopes[(org.management_account_id, DENIED)]["status"] == "succeeded"
    run = latest_run(database_url)
    assert (run["status"], run["scopes_skipped"], run["scopes_failed"]) == (
        "succeeded",
        len(members(org)),
        0,
    )
    n = len(members(org))
    (line,) = [line for line in result.out.splitlines() if line.startswith("skipped ")]
    assert line.startswith("skipped guardrail_deny (AccessDeniedException) ")
    assert f" in {n} scopes, {n} of {n + 1} accounts: nothing to do" in line
    text = metrics.read_text()
    assert f'appflow_inventory_scope_skips{{error_code="guardrail_deny"}} {len(members(org))}' in (
        text.replace(".0\n", "\n")
    )


def test_a_role_without_the_permission_is_a_failure_the_operator_must_fix(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A role that merely lacks a permission ("no identity-based policy allows") is not a
    guardrail: its scope fails as `access_denied` and the run is partial."""
    account = members(org)[0]
    sim.faults.failing_scopes[(account, DENIED)] = "AccessDeniedException"
    result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 1
    failed = latest_scopes(sqlite_url)[(account, DENIED)]
    assert (failed["status"], failed["error_code"]) == ("failed", "access_denied")
    assert "no identity-based policy allows" in failed["error_message"]
    assert latest_run(sqlite_url)["status"] == "partial"


def test_a_guardrail_on_one_operation_skips_that_listing_and_deletes_nothing_of_it(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """An SCP denying `appflow:ListFlows` skips the flow listing of the scopes it covers
    (nothing deleted from it), while their profiles are listed, and deleted, as before."""
    assert cli.collect(sqlite_url, sim, REGIONS).code == 0
    account = members(org)[1]
    (_, flow), *_ = [(k, f) for k, f in org.all_items(FLOWS) if k == (account, "us-east-1")]
    org.delete(FLOWS, account, "us-east-1", str(flow["flowName"]))
    profile = org.items(PROFILES, account, "us-east-1")[0]
    org.delete(PROFILES, account, "us-east-1", str(profile["connectorProfileName"]))
    org.policies.append(
        ExplicitDeny(actions=frozenset({"appflow:ListFlows"}), accounts=frozenset({account}))
    )
    result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 0, result.err
    resources = fetch(
        sqlite_url,
        "SELECT resource, status, error_code FROM collection_scope_resources "
        "WHERE account_id = :a AND region = 'us-east-1' AND run_id = "
        "(SELECT run_id FROM collection_runs ORDER BY started_at DESC LIMIT 1)",
        a=account,
    )
    by_resource = {r["resource"]: (r["status"], r["error_code"]) for r in resources}
    assert by_resource["flows"] == ("skipped", "guardrail_deny")
    assert by_resource["profiles"] == ("succeeded", None)
    gone = fetch(
        sqlite_url,
        "SELECT deleted_at FROM flows WHERE flow_arn = :a",
        a=flow["flowArn"],
    )
    assert gone == [{"deleted_at": None}]
    deleted = fetch(
        sqlite_url,
        "SELECT deleted_at FROM connector_profiles WHERE connector_profile_arn = :a",
        a=profile["connectorProfileArn"],
    )
    assert deleted[0]["deleted_at"] is not None


# --- the caller's own account ------------------------------------------------------------------


def test_the_management_account_without_the_member_role_is_collected_as_the_caller(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """The management account has no member role (a service-managed StackSet skips it): it
    is collected with the collector's own credentials, said once, and the run succeeds."""
    org.management_account.member_role = False
    result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 0, result.err
    scopes = latest_scopes(sqlite_url)
    for region in REGIONS:
        assert scopes[(org.management_account_id, region)]["status"] == "succeeded"
    assert live(sqlite_url, "connector_profiles", org.management_account_id) == sum(
        len(org.items(PROFILES, org.management_account_id, r)) for r in REGIONS
    )
    assert result.err.count("collecting it with the collector's own credentials") == 1


def test_no_caller_credentials_fails_the_management_account_instead(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """With `--no-caller-credentials` the management account's scopes fail as
    `assume_role_failed`, as they did before."""
    org.management_account.member_role = False
    result = cli.collect(sqlite_url, sim, REGIONS, "--no-caller-credentials")
    assert result.code == 1
    scopes = latest_scopes(sqlite_url)
    assert {scopes[(org.management_account_id, r)]["error_code"] for r in REGIONS} == {
        "assume_role_failed"
    }


def test_a_member_account_without_the_role_still_fails(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Only the caller's own account falls back: a member without the role is a deployment
    bug the operator must see."""
    account = members(org)[0]
    org.accounts[account].member_role = False
    result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 1
    assert latest_scopes(sqlite_url)[(account, REGIONS[0])]["error_code"] == "assume_role_failed"


# --- accounts that close, leave and come back --------------------------------------------------


TABLES = (
    ("connector_profiles", "connector_profile_versions", "connector_profile_arn"),
    ("flows", "flow_versions", "flow_arn"),
    ("custom_connectors", "custom_connector_versions", "connector_arn"),
)


def test_an_account_that_closes_loses_its_records_and_gets_them_back_when_it_returns(
    database_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A closed account's profiles, flows and connectors get `deleted` versions saying
    `account_closed`, its accounts row says CLOSED; active again, it is collected and every
    record `restored`."""
    assert cli.collect(database_url, sim, REGIONS).code == 0
    account = members(org)[2]
    before = {table: live(database_url, table, account) for table, _, _ in TABLES}
    assert all(before.values())
    org.accounts[account].state = "CLOSED"
    result = cli.collect(database_url, sim, REGIONS)
    assert result.code == 0, result.err
    for table, versions, key in TABLES:
        assert live(database_url, table, account) == 0
        assert set(change_types(database_url, versions, key, table, account)) == {
            "created:",
            "deleted:account_closed",
        }
    state = fetch(
        database_url, "SELECT state, left_at FROM accounts WHERE account_id = :a", a=account
    )
    assert state == [{"state": "CLOSED", "left_at": None}]
    deleted = sum(before.values())
    counts = fetch(
        database_url,
        "SELECT sum(deleted) AS n FROM collection_run_resources WHERE run_id = :r",
        r=latest_run(database_url)["run_id"],
    )
    assert counts == [{"n": deleted}]
    org.accounts[account].state = "ACTIVE"
    assert cli.collect(database_url, sim, REGIONS).code == 0
    for table, versions, key in TABLES:
        assert live(database_url, table, account) == before[table]
        chains = change_types(database_url, versions, key, table, account)
        assert chains.count("restored:") == before[table]


def test_an_account_that_leaves_loses_its_records_and_is_a_member_again_when_back(
    database_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """An account no longer in the organization: its records go with `account_left`, its
    row says LEFT and when; listed again, its row is a member's again and its records are
    restored."""
    assert cli.collect(database_url, sim, REGIONS).code == 0
    account = members(org)[3]
    gone = org.remove_account(account)
    assert gone is not None
    assert cli.collect(database_url, sim, REGIONS).code == 0
    for table, versions, key in TABLES:
        assert live(database_url, table, account) == 0
        assert "deleted:account_left" in change_types(database_url, versions, key, table, account)
    (row,) = fetch(
        database_url, "SELECT state, left_at FROM accounts WHERE account_id = :a", a=account
    )
    assert row["state"] == "LEFT"
    assert row["left_at"] is not None
    org.add_account(gone)
    assert cli.collect(database_url, sim, REGIONS).code == 0
    (row,) = fetch(
        database_url, "SELECT state, left_at FROM accounts WHERE account_id = :a", a=account
    )
    assert (row["state"], row["left_at"]) == ("ACTIVE", None)
    assert live(database_url, "flows", account) == sum(
        len(org.items(FLOWS, account, r)) for r in REGIONS
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "how",
    ["organizational units", "explicit accounts", "excluded", "failed discovery"],
)
def test_nothing_goes_unless_the_whole_organization_was_listed(
    sqlite_url: str,
    org: Organization,
    sim: Simulator,
    cli: Cli,
    how: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OU filters, an `--accounts` run, an excluded account and a discovery that failed
    never delete what a closed or departed account held."""
    assert cli.collect(sqlite_url, sim, REGIONS).code == 0
    closed, left = members(org)[:2]
    org.accounts[closed].state = "SUSPENDED"
    if how == "explicit accounts":
        args = ["run", "--database-url", sqlite_url, "--accounts", f"{closed},{left}"]
        cli.run([*args, "--role-name", ROLE], sim.env())
    elif how == "failed discovery":
        # Discovery retries a server error eight times, backing off for seconds: on a clock.
        sim.faults.bursts["organizations:ListAccounts"] = Burst("server_error")
        org.remove_account(left)
        result = collect_on_clock(
            sim, run_settings(sqlite_url, REGIONS), SharedClock(), 1, monkeypatch
        )
        assert result.status is RunStatus.FAILED, result.error
    else:
        org.remove_account(left)
        extra = {
            "organizational units": ["--organizational-units", org.root_id],
            "excluded": ["--exclude-accounts", f"{closed},{left}"],
        }[how]
        assert cli.collect(sqlite_url, sim, REGIONS, *extra).code == 0
    for account in (closed, left):
        assert live(sqlite_url, "connector_profiles", account) > 0
    retired = fetch(
        sqlite_url,
        "SELECT count(*) AS n FROM connector_profile_versions WHERE change_reason IS NOT NULL",
    )
    assert retired == [{"n": 0}]


def test_each_shard_retires_only_the_accounts_it_owns(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """With shards, the shard that owns a departed account marks its records deleted; the
    other leaves them."""
    for shard in ("0/2", "1/2"):
        assert cli.collect(sqlite_url, sim, REGIONS, "--shard", shard).code == 0
    account = members(org)[0]
    org.remove_account(account)
    owner = next(shard for shard in ("0/2", "1/2") if Shard.parse(shard).owns(account))
    other = "1/2" if owner == "0/2" else "0/2"
    assert cli.collect(sqlite_url, sim, REGIONS, "--shard", other).code == 0
    assert live(sqlite_url, "connector_profiles", account) > 0
    assert cli.collect(sqlite_url, sim, REGIONS, "--shard", owner).code == 0
    assert live(sqlite_url, "connector_profiles", account) == 0


def test_history_stays_consistent_through_departures(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Versions of a closed and reopened account chain `valid_to` to the next `valid_from`
    and end in the row's state."""
    assert cli.collect(sqlite_url, sim, REGIONS).code == 0
    account = members(org)[0]
    org.accounts[account].state = "CLOSED"
    assert cli.collect(sqlite_url, sim, REGIONS).code == 0
    org.accounts[account].state = "ACTIVE"
    assert cli.collect(sqlite_url, sim, REGIONS).code == 0
    for table, versions, key in TABLES:
        rows = {r[key]: r for r in fetch(sqlite_url, f"SELECT * FROM {table}")}
        chains = fetch(sqlite_url, f"SELECT * FROM {versions} ORDER BY {key}, version")
        for arn, group in itertools.groupby(chains, key=lambda r: r[key]):
            chain = list(group)
            for before, after in itertools.pairwise(chain):
                assert before["valid_to"] == after["valid_from"], arn
            assert rows[arn]["version"] == chain[-1]["version"]
            assert (rows[arn]["deleted_at"] is None) == (chain[-1]["change_type"] != "deleted")
