"""Separate identities: with `--organization-role-arn`, the Organizations calls are made as
that role (assumed from the base credentials) while member roles are still assumed from the
base credentials, as for a collector running outside the management account."""

from __future__ import annotations

import pytest

from collector.simulator import PROFILES, Organization, Simulator, generate_organization

from ..support import Cli, fetch

REGIONS = ("us-east-1",)
ORGANIZATION_ROLE = "AppFlowInventoryOrganizationReader"


@pytest.fixture
def org() -> Organization:
    """An organization whose base principal may not call Organizations: only the sessions
    of its organization role may; member roles trust the base principal alone."""
    organization = generate_organization(
        seed=44, accounts=25, empty_fraction=0.4, profiles_per_scope=(1, 3), regions=REGIONS
    )
    organization.organization_role_name = ORGANIZATION_ROLE
    return organization


def role_arn(org: Organization, name: str = ORGANIZATION_ROLE) -> str:
    return f"arn:aws:iam::{org.management_account_id}:role/{name}"


def test_organization_calls_use_the_organization_role(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """With the role, every account is discovered (through all ListAccounts pages) and
    collected: one AssumeRole for the organization role, one per member account."""
    result = cli.collect(sqlite_url, sim, REGIONS, "--organization-role-arn", role_arn(org))
    assert result.code == 0, result.err
    accounts = {r["account_id"] for r in fetch(sqlite_url, "SELECT account_id FROM accounts")}
    assert accounts == {a.id for a in org.account_list()}
    stored = {
        r["connector_profile_arn"] for r in fetch(sqlite_url, "SELECT * FROM connector_profiles")
    }
    assert stored == {str(p["connectorProfileArn"]) for _, p in org.all_items(PROFILES)}
    assert sim.stats.count("organizations", "ListAccounts") == 2
    assert sim.stats.count("sts", "AssumeRole") == len(org.account_list()) + 1


def test_without_the_role_the_base_credentials_are_refused(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """The same organization without --organization-role-arn: the base principal may not
    list the organization, so the run fails and says why."""
    result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 1
    run = fetch(sqlite_url, "SELECT status, error_message FROM collection_runs")
    assert run == [
        {
            "status": "failed",
            "error_message": "AccessDeniedException: cannot list the organization's accounts: "
            "You don't have permissions to access this resource.",
        }
    ]
    assert sim.stats.count("appflow") == 0


def test_a_role_that_cannot_be_assumed_fails_the_run_with_its_arn(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A wrong organization role ARN fails the run (nothing is collected, nothing deleted)
    with a message naming the role; no member role is assumed."""
    wrong = role_arn(org, "NoSuchRole")
    result = cli.collect(sqlite_url, sim, REGIONS, "--organization-role-arn", wrong)
    assert result.code == 1
    run = fetch(sqlite_url, "SELECT status, error_message FROM collection_runs")
    assert run[0]["status"] == "failed"
    assert f"cannot assume the organization role {wrong}" in run[0]["error_message"]
    assert sim.stats.count("sts", "AssumeRole") == 1
    assert sim.stats.count("appflow") == 0


def test_organization_role_needs_organization_and_a_role_arn(sqlite_url: str, cli: Cli) -> None:
    """--organization-role-arn without --organization, or with something not a role ARN,
    exits 2 with one line."""
    cases = (
        (["--accounts", "111122223333"], "needs --organization"),
        (["--organization"], "is not an IAM role ARN"),
    )
    for extra, message in cases:
        arn = "arn:aws:iam::111122223333:role/Reader" if "--accounts" in extra else "Reader"
        result = cli.run(
            ["run", "--database-url", sqlite_url, *extra, "--organization-role-arn", arn]
        )
        assert result.code == 2
        assert message in result.err
        assert len(result.err.strip().splitlines()) == 1
