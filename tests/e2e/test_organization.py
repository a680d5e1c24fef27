"""Whole-organization scope end to end: discovery, exclusions, OUs and per-account regions."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from collector.simulator import (
    APPFLOW_REGIONS,
    CONNECTORS,
    FLOWS,
    PROFILES,
    Organization,
    OrganizationalUnit,
    Simulator,
    generate_organization,
    make_profile,
)

from ..support import ROLE, Cli, fetch

REGION = "us-east-1"


@pytest.fixture
def org() -> Organization:
    """45 accounts (three ListAccounts pages of 20) in one region, a few holding profiles."""
    return generate_organization(
        seed=21, accounts=45, empty_fraction=0.7, profiles_per_scope=(1, 3), regions=(REGION,)
    )


def recorded(url: str) -> dict[str, dict[str, object]]:
    """The `accounts` table, by account id."""
    return {r["account_id"]: r for r in fetch(url, "SELECT * FROM accounts")}


def collected(url: str) -> set[str]:
    """Accounts that have at least one `collection_scopes` row."""
    return {r["account_id"] for r in fetch(url, "SELECT account_id FROM collection_scopes")}


def listed(sim: Simulator) -> set[str]:
    """Accounts the simulator answered AppFlow calls for."""
    return {account for account, _ in sim.stats.scopes}


def ous(org: Organization) -> dict[str, str]:
    """OU name -> id (the generator gives each name once)."""
    return {ou.name: ou.id for ou in org.ou_list()}


def add_ou(org: Organization, name: str, parent: str) -> str:
    ou = OrganizationalUnit(f"ou-{org.root_id[2:]}-{name.lower():0>8}", name, parent)
    org.organizational_units[ou.id] = ou
    return ou.id


def active(org: Organization) -> set[str]:
    return {a.id for a in org.account_list() if a.state == "ACTIVE"}


def members(org: Organization) -> list[str]:
    """Active accounts other than the management account, in a stable order."""
    return sorted(active(org) - {org.management_account_id})


def under(org: Organization, parent: str) -> set[str]:
    """Accounts in `parent` or any OU below it, read from the model."""
    children = [ou.id for ou in org.ou_list() if ou.parent_id == parent]
    direct = {a.id for a in org.account_list() if a.parent_id == parent}
    return direct.union(*(under(org, child) for child in children))


def test_every_page_of_accounts_is_recorded_and_collected(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """All 45 accounts, over three ListAccounts pages, are recorded with name, email and state."""
    assert cli.collect(sqlite_url, sim, REGION).code == 0
    assert sim.stats.count("organizations", "ListAccounts") == 3
    rows = recorded(sqlite_url)
    assert len(rows) == 45
    for account in org.account_list():
        row = rows[account.id]
        assert (row["name"], row["email"], row["state"], row["source"]) == (
            account.name,
            account.email,
            "ACTIVE",
            "organization",
        )
    assert collected(sqlite_url) == set(org.accounts)
    # Organizations calls count among the run's requests.
    run = fetch(sqlite_url, "SELECT requests FROM collection_runs")[0]
    # GetCallerIdentity (partition), ListAccounts, then AssumeRole and one page of profiles,
    # one of flows and one of custom connectors each, and one DescribeFlow per flow and one
    # DescribeConnector per connector (all new on a first run).
    flows, connectors = len(org.all_items(FLOWS)), len(org.all_items(CONNECTORS))
    assert flows > 0
    assert run["requests"] == 1 + 3 + 4 * 45 + flows + connectors


def test_inactive_accounts_are_recorded_but_not_collected(sqlite_url: str, cli: Cli) -> None:
    """Suspended, closed and pending accounts are in `accounts` but get no scope and no call."""
    org = generate_organization(
        seed=5,
        accounts=12,
        inactive_accounts=4,
        empty_fraction=0.0,
        profiles_per_scope=(1, 3),
        regions=(REGION,),
    )
    inactive = {a.id: a.state for a in org.account_list() if a.state != "ACTIVE"}
    assert sorted(inactive.values()) == [
        "CLOSED",
        "PENDING_ACTIVATION",
        "PENDING_CLOSURE",
        "SUSPENDED",
    ]
    for account in inactive:
        profile = make_profile("Slack", "left-behind", account, REGION, random.Random(1))
        org.put(PROFILES, account, REGION, profile)
    with Simulator(org) as sim:
        assert cli.collect(sqlite_url, sim, REGION).code == 0
        assert listed(sim) == active(org)
    rows = recorded(sqlite_url)
    assert {a: rows[a]["state"] for a in inactive} == inactive
    assert len(rows) == 12
    assert collected(sqlite_url) == active(org)
    stored = fetch(sqlite_url, "SELECT DISTINCT account_id FROM connector_profiles")
    assert not {r["account_id"] for r in stored} & set(inactive)


def test_excluded_accounts_are_recorded_but_not_collected(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """`--exclude-accounts` keeps accounts out of the listing but still records them."""
    excluded = members(org)[:3]
    result = cli.collect(sqlite_url, sim, REGION, "--exclude-accounts", ",".join(excluded))
    assert result.code == 0
    assert set(excluded) <= set(recorded(sqlite_url))
    assert collected(sqlite_url) == set(org.accounts) - set(excluded)
    assert listed(sim) == set(org.accounts) - set(excluded)


def test_excluded_accounts_apply_to_an_explicit_list(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Without `--organization`, an excluded account of `--accounts` is recorded, not listed."""
    kept, dropped = members(org)[:2]
    args = ["run", "--database-url", sqlite_url, "--role-name", ROLE, "--regions", REGION]
    args += ["--accounts", f"{kept},{dropped}", "--exclude-accounts", dropped]
    assert cli.run(args, sim.env()).code == 0
    assert set(recorded(sqlite_url)) == {kept, dropped}
    assert collected(sqlite_url) == {kept}


def test_organizational_units_include_nested_ous(
    sqlite_url: str, org: Organization, cli: Cli
) -> None:
    """An OU brings in the accounts of its child OUs at any depth, and nothing else."""
    names = ous(org)
    payments = add_ou(org, "Payments", names["Prod"])
    cards = add_ou(org, "Cards", payments)
    nested, at_root, in_sandbox = members(org)[:3]
    org.accounts[nested].parent_id = cards
    org.accounts[at_root].parent_id = org.root_id
    org.accounts[in_sandbox].parent_id = names["Sandbox"]
    with Simulator(org) as sim:
        result = cli.collect(sqlite_url, sim, REGION, "--organizational-units", names["Workloads"])
    assert result.code == 0
    expected = under(org, names["Workloads"]) & active(org)
    assert nested in expected
    assert collected(sqlite_url) == expected
    assert {at_root, in_sandbox}.isdisjoint(collected(sqlite_url))
    assert len(recorded(sqlite_url)) == len(org.accounts)


def test_root_id_is_accepted_as_an_organizational_unit(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Naming the root as an OU collects every active account."""
    result = cli.collect(sqlite_url, sim, REGION, "--organizational-units", org.root_id)
    assert result.code == 0
    assert collected(sqlite_url) == active(org)


def test_excluded_ou_wins_over_included_ou(sqlite_url: str, org: Organization, cli: Cli) -> None:
    """An excluded OU (and the OUs below it) stays out even inside an included OU."""
    names = ous(org)
    payments = add_ou(org, "Payments", names["Prod"])
    staging, in_payments, in_prod = members(org)[:3]
    org.accounts[staging].parent_id = names["Staging"]
    org.accounts[in_payments].parent_id = payments
    org.accounts[in_prod].parent_id = names["Prod"]
    with Simulator(org) as sim:
        result = cli.collect(
            sqlite_url,
            sim,
            REGION,
            "--organizational-units",
            names["Workloads"],
            "--exclude-organizational-units",
            names["Prod"],
        )
    assert result.code == 0
    expected = (under(org, names["Workloads"]) - under(org, names["Prod"])) & active(org)
    assert staging in expected
    assert collected(sqlite_url) == expected
    assert {in_payments, in_prod}.isdisjoint(collected(sqlite_url))
    assert {in_payments, in_prod} <= set(recorded(sqlite_url))


def test_ou_listings_are_read_to_the_last_page(
    sqlite_url: str, org: Organization, cli: Cli
) -> None:
    """An OU with 25 child OUs and 30 accounts is walked over every page of both listings."""
    names = ous(org)
    team = add_ou(org, "Teams", org.root_id)
    children = [add_ou(org, f"team{i:04d}", team) for i in range(25)]
    accounts = members(org)[:30]
    for account in accounts[:25]:
        org.accounts[account].parent_id = team
    for account, child in zip(accounts[25:], children[-5:], strict=True):
        org.accounts[account].parent_id = child
    with Simulator(org) as sim:
        result = cli.collect(
            sqlite_url,
            sim,
            REGION,
            "--organizational-units",
            team,
            "--exclude-organizational-units",
            names["Security"],
        )
        ou_pages = sim.stats.count("organizations", "ListOrganizationalUnitsForParent")
    assert result.code == 0
    assert collected(sqlite_url) == set(accounts)
    # Teams takes two pages of child OUs; each of its 25 children and Security one.
    assert ou_pages == 2 + 25 + 1


def test_per_account_regions_from_the_config_file(
    sqlite_url: str, org: Organization, sim: Simulator, tmp_path: Path, cli: Cli
) -> None:
    """`[account_regions]` gives an account its own regions (or all) in place of `regions`."""
    two, everywhere = members(org)[:2]
    config = tmp_path / "collector.toml"
    config.write_text(
        f'database_url = "{sqlite_url}"\n'
        f"organization = true\n"
        f'role_name = "{ROLE}"\n'
        f'regions = ["{REGION}"]\n'
        f"\n[account_regions]\n"
        f'"{two}" = ["eu-west-1", "us-west-2"]\n'
        f'"{everywhere}" = "all"\n',
        encoding="utf-8",
    )
    result = cli.run(["run", "--config", str(config)], sim.env())
    assert result.code == 0, result.err
    scopes: dict[str, set[str]] = {}
    for row in fetch(sqlite_url, "SELECT account_id, region FROM collection_scopes"):
        scopes.setdefault(row["account_id"], set()).add(row["region"])
    assert scopes.pop(two) == {"eu-west-1", "us-west-2"}
    assert scopes.pop(everywhere) == set(APPFLOW_REGIONS)
    assert all(regions == {REGION} for regions in scopes.values())
    assert set(scopes) == set(org.accounts) - {two, everywhere}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--organizational-units", "ou-ab12-abcdefgh"], "--organizational-units needs"),
        (["--exclude-organizational-units", "r-ab12"], "--exclude-organizational-units needs"),
        (["--organization", "--organizational-units", "ou-AB12-x"], "is not an OU id"),
        (["--organization", "--exclude-organizational-units", "o-abc"], "is not an OU id"),
        (["--organization", "--organizational-units", ","], "--organizational-units is empty"),
        (["--organization", "--exclude-accounts", "12345"], "'12345' is not 12 digits"),
        (["--accounts", "123456789012", "--organization"], "cannot be used together"),
    ],
)
def test_scoping_usage_errors_exit_2_with_one_line(
    empty_sqlite_url: str, args: list[str], message: str, cli: Cli
) -> None:
    """A bad scoping option exits 2 with one line naming it, before anything is collected."""
    result = cli.run(["run", "--database-url", empty_sqlite_url, *args])
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert message in lines[0]
    assert not Path(empty_sqlite_url.removeprefix("sqlite:///")).exists()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('"12345" = ["us-east-1"]', "account id '12345' is not 12 digits"),
        ('"123456789012" = ["moon-1"]', "'moon-1' is not a region name"),
        ('"123456789012" = []', 'account_regions."123456789012" is empty'),
        ('"123456789012" = 5', 'must be a list of regions or "all"'),
    ],
)
def test_bad_account_regions_exit_2_with_one_line(
    sqlite_url: str, tmp_path: Path, table: str, message: str, cli: Cli
) -> None:
    """A bad `[account_regions]` entry exits 2 with one line naming the file and the entry."""
    config = tmp_path / "collector.toml"
    config.write_text(f"[account_regions]\n{table}\n", encoding="utf-8")
    args = ["run", "--database-url", sqlite_url, "--config", str(config)]
    result = cli.run(args)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert message in lines[0]
    assert str(config) in lines[0]


def test_unknown_organizational_unit_exits_2(sqlite_url: str, sim: Simulator, cli: Cli) -> None:
    """An OU id that is not in the organization exits 2 with one line naming it."""
    missing = "ou-zz99-notthere"
    result = cli.collect(sqlite_url, sim, REGION, "--organizational-units", missing)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert missing in lines[0]
    assert not listed(sim)


# Its point is scale, and the code it runs is covered by smaller tests: traced, it took
# twice the CPU (18 s against 8 s alone).
@pytest.mark.slow
@pytest.mark.no_cover
def test_organization_of_a_thousand_accounts(sqlite_url: str, cli: Cli) -> None:
    """1,000 accounts, 20 of them inactive, are all recorded and the 980 active ones listed."""
    org = generate_organization(
        seed=1000,
        accounts=1000,
        inactive_accounts=20,
        empty_fraction=0.99,
        profiles_per_scope=(1, 3),
        regions=(REGION,),
    )
    with Simulator(org) as sim:
        assert cli.collect(sqlite_url, sim, REGION).code == 0
        assert sim.stats.count("organizations", "ListAccounts") == 50
    assert len(recorded(sqlite_url)) == 1000
    scopes = fetch(sqlite_url, "SELECT status, count(*) AS n FROM collection_scopes GROUP BY 1")
    assert scopes == [{"status": "succeeded", "n": 980}]
    profiles = fetch(sqlite_url, "SELECT count(*) AS n FROM connector_profiles")
    assert profiles[0]["n"] == sum(len(org.items(PROFILES, a, REGION)) for a in org.accounts)
