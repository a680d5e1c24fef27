"""What one scope may cost: a byte budget on the responses it reads, and error messages of
bounded length, whatever AWS sends."""

from __future__ import annotations

import random

import pytest

from collector._errors import MAX_MESSAGE
from collector.simulator import Organization, Simulator, generate_organization, make_profile

from ..support import Cli, fetch

REGIONS = ("us-east-1",)
REGION = REGIONS[0]
# About 2.5 MiB of profiles over 30 pages: more than a budget of 1 MiB, far less than 32.
LARGE_SCOPE_PROFILES = 3000


@pytest.fixture
def org() -> Organization:
    organization = generate_organization(
        seed=17, accounts=4, empty_fraction=0.0, profiles_per_scope=(1, 3), regions=REGIONS
    )
    rng = random.Random(4)
    account = large(organization)
    for n in range(LARGE_SCOPE_PROFILES):
        organization.put_profile(
            account,
            REGION,
            make_profile(
                "Salesforce", f"bulk-{n:04d}", account, REGION, rng, description="x" * 400
            ),
        )
    return organization


def large(org: Organization) -> str:
    """The account whose one scope holds `LARGE_SCOPE_PROFILES` profiles."""
    return sorted(a.id for a in org.account_list())[1]


def live_profiles(url: str, account: str) -> int:
    rows = fetch(
        url,
        "SELECT count(*) AS n FROM connector_profiles WHERE account_id = :a AND deleted_at IS NULL",
        a=account,
    )
    return int(rows[0]["n"])


@pytest.mark.parametrize("chunked", [False, True], ids=["with Content-Length", "chunked"])
def test_a_scope_over_its_byte_budget_fails_as_too_large_and_deletes_nothing(
    chunked: bool, sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """A scope whose responses go over `--scope-budget-mib` stops reading at the budget and
    fails as `too_large`: nothing of it is written, nothing of it is marked deleted (not
    even what a complete listing would delete), and every other scope is collected."""
    sim.faults.chunked_bodies = chunked
    first = cli.collect(sqlite_url, sim, REGIONS)
    assert first.code == 0, first.err
    account = large(org)
    stored = live_profiles(sqlite_url, account)
    assert stored > LARGE_SCOPE_PROFILES
    for n in range(0, LARGE_SCOPE_PROFILES, 2):
        assert org.delete_profile(account, REGION, f"bulk-{n:04d}")
    pages_before = sim.stats.scope_count((account, REGION), "DescribeConnectorProfiles")

    second = cli.collect(sqlite_url, sim, REGIONS, "--scope-budget-mib", "1")
    assert second.code == 1, second.err
    pages = sim.stats.scope_count((account, REGION), "DescribeConnectorProfiles") - pages_before
    # Half the bulk profiles are left: 15 full pages and one more. It stopped before.
    assert pages < LARGE_SCOPE_PROFILES // 2 // 100, pages
    scopes = {
        r["account_id"]: r
        for r in fetch(
            sqlite_url,
            "SELECT s.account_id, s.status, s.error_code, s.aws_error_code, s.error_message "
            "FROM collection_scopes s JOIN collection_runs r USING (run_id) "
            "WHERE r.started_at = (SELECT max(started_at) FROM collection_runs)",
        )
    }
    failed = scopes.pop(account)
    assert (failed["status"], failed["error_code"], failed["aws_error_code"]) == (
        "failed",
        "too_large",
        "ScopeTooLarge",
    )
    assert "budget of 1048576 bytes" in failed["error_message"]
    assert {s["status"] for s in scopes.values()} == {"succeeded"}
    assert live_profiles(sqlite_url, account) == stored
    assert fetch(
        sqlite_url,
        "SELECT count(*) AS n FROM connector_profile_versions WHERE change_type = 'deleted'",
    ) == [{"n": 0}]
    resources = fetch(
        sqlite_url,
        "SELECT resource, status, error_code FROM collection_scope_resources "
        "WHERE account_id = :a AND run_id = (SELECT run_id FROM collection_runs "
        "ORDER BY started_at DESC LIMIT 1) ORDER BY resource",
        a=account,
    )
    assert resources == [
        {"resource": "flows", "status": "failed", "error_code": "too_large"},
        {"resource": "profiles", "status": "failed", "error_code": "too_large"},
    ]
    assert f"failed {account} {REGION} too_large" in second.out


def test_the_default_budget_holds_a_scope_at_the_quotas(
    sqlite_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Without `--scope-budget-mib`, a scope of 3,000 profiles (30 times AppFlow's default
    quota) is collected whole."""
    result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 0, result.err
    assert live_profiles(sqlite_url, large(org)) > LARGE_SCOPE_PROFILES


def test_scope_budget_is_checked_at_configuration_time(sqlite_url: str, cli: Cli) -> None:
    """A budget that is not a whole number of MiB from 1 to 4096 exits 2 with one line."""
    for value, reason in (
        ("0", "--scope-budget-mib must be 1 to 4096, not 0"),
        ("4097", "--scope-budget-mib must be 1 to 4096, not 4097"),
        ("1.5", "--scope-budget-mib must be an integer"),
        ("lots", "--scope-budget-mib must be an integer"),
    ):
        result = cli.run(["run", "--database-url", sqlite_url, "--scope-budget-mib", value])
        assert result.code == 2, value
        assert reason in result.err, result.err
        assert len(result.err.strip().splitlines()) == 1


def test_error_messages_are_truncated(sqlite_url: str, org: Organization, cli: Cli) -> None:
    """An error message of tens of kilobytes (here, every unstorable profile of a scope
    named in one message) is stored and shown cut to `MAX_MESSAGE` characters."""
    account = sorted(a.id for a in org.account_list())[2]
    rng = random.Random(8)
    for n in range(40):
        profile = make_profile("Slack", f"broken-{n}", account, REGION, rng)
        profile["connectorProfileArn"] = f"arn:aws:appflow:{REGION}:{account}:{'x' * 1000}{n}\x00"
        org.put_profile(account, REGION, profile)
    with Simulator(org) as sim:
        result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 1, result.err
    (scope,) = fetch(
        sqlite_url,
        "SELECT error_code, error_message FROM collection_scopes WHERE status = 'failed'",
    )
    assert scope["error_code"] == "invalid_response"
    message = scope["error_message"]
    assert MAX_MESSAGE < len(message) <= MAX_MESSAGE + 40
    assert message.endswith("more characters)")
    (line,) = [line for line in result.out.splitlines() if line.startswith("  failed")]
    assert len(line) <= MAX_MESSAGE + 120
