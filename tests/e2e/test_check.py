"""The preflight (`collector check`) and the plan (`collector run --dry-run`), end to end
against the simulator: what they find, what they group, and that they collect nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from collector._model.scopes import Shard
from collector.simulator import Faults, Organization, Simulator, generate_organization

from ..support import ROLE, Cli, fetch

REGIONS = ("us-east-1", "eu-west-1", "af-south-1")


@pytest.fixture
def org() -> Organization:
    """Six active accounts and two that are not, in three regions (one opt-in)."""
    return generate_organization(
        seed=31, accounts=8, inactive_accounts=2, empty_fraction=0.5, regions=REGIONS
    )


def check_args(url: str, *extra: str) -> list[str]:
    return [
        "check",
        "--database-url",
        url,
        "--organization",
        "--regions",
        ",".join(REGIONS),
        *extra,
    ]


def active(org: Organization) -> list[str]:
    return sorted(a.id for a in org.account_list() if a.state == "ACTIVE")


def appflow_calls(sim: Simulator) -> dict[str, int]:
    return {
        op: sim.stats.count("appflow", op)
        for op in ("DescribeConnectorProfiles", "ListFlows", "ListConnectors", "DescribeFlow")
    }


def test_a_good_setup_passes_every_check(
    org: Organization, sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """Credentials, the organization, the role in each account, one listing call per
    resource per account and the database all pass: exit 0, nothing collected, no file."""
    database = tmp_path / "inventory.db"
    result = cli.run(check_args(f"sqlite:///{database}", "--role-name", ROLE), sim.env())
    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    accounts = len(active(org))
    assert lines[0] == (
        f"ok    credentials: account {org.management_account_id}, partition aws (STS in us-east-1)"
    )
    assert lines[1].startswith("ok    organization: 8 found (6 ACTIVE, ")
    assert lines[1].endswith(
        f"; {accounts} to list, 2 left out (" + lines[1].split(" left out (")[1]
    )
    assert f"ok    role {ROLE}: assumed in {accounts} of {accounts} accounts" in lines
    for resource, operation in (
        ("profiles", "DescribeConnectorProfiles"),
        ("flows", "ListFlows"),
        ("connectors", "ListConnectors"),
    ):
        assert (
            f"ok    {resource} ({operation}): allowed in {accounts} of {accounts} accounts" in lines
        )
    assert f"ok    database sqlite:///{database}: does not exist yet; a run creates it" in lines
    assert lines[-1].startswith("ready:")
    # One call per resource per account, in one region; nothing described, nothing written.
    assert appflow_calls(sim) == {
        "DescribeConnectorProfiles": accounts,
        "ListFlows": accounts,
        "ListConnectors": accounts,
        "DescribeFlow": 0,
    }
    assert sim.stats.count("sts", "AssumeRole") == accounts
    assert not database.exists()


def test_a_wrong_role_is_one_line_with_its_fix(
    org: Organization, sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """A role that cannot be assumed anywhere is one grouped line with the count of accounts
    and the fix, three examples and a count of the rest; the caller's own account, read with
    the caller's credentials instead, is named apart; the run would fail: exit 1."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    result = cli.run(check_args(url, "--role-name", "Wrong"), sim.env())
    assert result.code == 1, result.err
    lines = result.out.splitlines()
    assert "FAIL  role Wrong: assumed in 0 of 6 accounts" in lines
    assert (
        f"      {org.management_account_id}, the caller's own account, is read with the "
        "caller's credentials instead (--no-caller-credentials to refuse)"
    ) in lines
    grouped = [line for line in lines if "assume_role_failed" in line]
    assert grouped == [
        "      assume_role_failed (AccessDenied) in 5 of 6 accounts: check --role-name and "
        "--external-id, and the role's trust policy in those accounts "
        "(deploy/cloudformation/member-role.yaml)"
    ]
    examples = [line for line in lines if line.startswith("        ") and "cannot assume" in line]
    assert len(examples) == 3
    assert "        ... and 2 more" in lines
    # Only the caller's own account is listed: no role, no listing.
    assert appflow_calls(sim)["DescribeConnectorProfiles"] == 1


def test_a_wrong_role_without_the_caller_standing_in_fails_everywhere(
    org: Organization, sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """With `--no-caller-credentials`, a wrong role fails in every account, the caller's own
    included, and nothing is listed."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    args = check_args(url, "--role-name", "Wrong", "--no-caller-credentials")
    result = cli.run(args, sim.env())
    assert result.code == 1, result.err
    lines = result.out.splitlines()
    assert "FAIL  role Wrong: assumed in 0 of 6 accounts" in lines
    assert not [line for line in lines if "the caller's own account" in line]
    assert [line for line in lines if "assume_role_failed" in line] == [
        "      assume_role_failed (AccessDenied) in 6 of 6 accounts: check --role-name and "
        "--external-id, and the role's trust policy in those accounts "
        "(deploy/cloudformation/member-role.yaml)"
    ]
    assert appflow_calls(sim)["DescribeConnectorProfiles"] == 0


def test_a_denied_listing_is_grouped_under_its_resource(
    org: Organization, cli: Cli, tmp_path: Path
) -> None:
    """A listing the account's role may not make fails its resource's check, grouped by
    code and AWS code with the account, while the others pass."""
    denied = active(org)[0]
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    faults = Faults(failing_scopes={(denied, "us-east-1"): "AccessDeniedException"})
    with Simulator(org, faults=faults) as sim:
        result = cli.run(check_args(url, "--role-name", ROLE), sim.env())
    assert result.code == 1, result.err
    lines = result.out.splitlines()
    assert "FAIL  profiles (DescribeConnectorProfiles): allowed in 5 of 6 accounts" in lines
    assert any(
        line.startswith("      access_denied (AccessDeniedException) in 1 of 6 accounts:")
        for line in lines
    )
    assert any(line.startswith(f"        {denied} us-east-1: ") for line in lines)


def test_a_sample_checks_that_many_accounts(
    org: Organization, sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """`--sample N` assumes the role in N accounts and lists in those only."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    result = cli.run(check_args(url, "--role-name", ROLE, "--sample", "2"), sim.env())
    assert result.code == 0, result.out + result.err
    assert f"ok    role {ROLE}: assumed in 2 of 2 accounts" in result.out.splitlines()
    assert sim.stats.count("sts", "AssumeRole") == 2
    assert appflow_calls(sim)["ListFlows"] == 2


def test_the_database_is_checked_without_being_changed(
    sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """An inventory at the current schema passes; one a newer collector migrated fails the
    check with exit 3, as it would fail the run; neither is changed."""
    database = tmp_path / "inventory.db"
    url = f"sqlite:///{database}"
    assert cli.run(["db", "upgrade", "--database-url", url]).code == 0
    head = fetch(url, "SELECT version_num FROM alembic_version")[0]["version_num"]
    current = cli.run(check_args(url, "--role-name", ROLE), sim.env())
    assert current.code == 0, current.out
    assert f"ok    database {url}: schema current ({head})" in current.out.splitlines()
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    newer = cli.run(check_args(url, "--role-name", ROLE), sim.env())
    assert newer.code == 3
    assert f"FAIL  database {url}: schema at 9999, newer than this collector knows" in newer.out
    assert fetch(url, "SELECT version_num FROM alembic_version") == [{"version_num": "9999"}]
    assert fetch(url, "SELECT count(*) AS n FROM collection_runs") == [{"n": 0}]


def test_unusable_credentials_exit_2_and_still_check_the_database(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without AWS credentials the check fails as the run would (exit 2), and says what the
    database would do all the same."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = cli.run(["check", "--database-url", url], env)
    assert result.code == 2, result.out + result.err
    assert result.out.splitlines()[0].startswith("FAIL  credentials: no AWS credentials found")
    assert f"ok    database {url}: does not exist yet; a run creates it" in result.out


def test_the_check_in_json_is_one_event(
    org: Organization, sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """With `--log-format json` the check prints one `check_finished` event on stdout, and
    stderr holds JSON lines only."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    result = cli.run(check_args(url, "--role-name", "Wrong", "--log-format", "json"), sim.env())
    assert result.code == 1
    (line,) = result.out.splitlines()
    event = json.loads(line)
    assert (event["event"], event["exit_code"]) == ("check_finished", 1)
    assert event["accounts"]["listed"] == 6
    assert event["role"]["caller_credentials_used"] == org.management_account_id
    (group,) = event["role"]["failures"]
    assert (group["error_code"], group["cause"], group["accounts"]) == (
        "assume_role_failed",
        "AccessDenied",
        5,
    )
    for text in result.err.splitlines():
        json.loads(text)


def test_the_ous_walked_are_named(
    org: Organization, sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """With `--organizational-units`, the check names each OU and root it listed."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    result = cli.run(
        check_args(url, "--role-name", ROLE, "--organizational-units", org.root_id), sim.env()
    )
    assert result.code == 0, result.out + result.err
    walked = next(line for line in result.out.splitlines() if "OUs and roots walked" in line)
    assert org.root_id in walked
    for ou in org.ou_list():
        assert ou.id in walked


# --- the plan ---------------------------------------------------------------------------------


def test_the_dry_run_prints_the_plan_and_lists_nothing(
    org: Organization, sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """`run --dry-run` shows the accounts by state, those left out and why, the regions and
    scopes (opt-in ones flagged), without an AppFlow call or a database."""
    database = tmp_path / "inventory.db"
    excluded = active(org)[0]
    args = [
        "run",
        "--dry-run",
        "--database-url",
        f"sqlite:///{database}",
        "--organization",
        "--role-name",
        ROLE,
        "--regions",
        ",".join(REGIONS),
        "--exclude-accounts",
        excluded,
    ]
    result = cli.run(args, sim.env())
    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    assert lines[0] == "plan (nothing listed, nothing written):"
    assert lines[2].startswith("accounts: 8 found (6 ACTIVE, ")
    assert lines[2].endswith("; 5 to list")
    assert f"  left out, --exclude-accounts: 1 ({excluded})" in lines
    inactive = [a for a in org.account_list() if a.state != "ACTIVE"]
    for account in inactive:
        assert any(
            line.startswith(f"  left out, state {account.state}:") and account.id in line
            for line in lines
        )
    assert "regions: 3 (af-south-1, eu-west-1, us-east-1)" in lines
    assert "scopes: 15 (account, region) pairs to list" in lines
    assert any(line.startswith("  5 in opt-in regions (af-south-1)") for line in lines)
    assert sim.stats.count("appflow") == 0
    assert sim.stats.count("sts", "AssumeRole") == 0
    assert not database.exists()


def test_the_dry_run_in_json_lists_every_account(
    org: Organization, sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """With JSON logs the plan is one `run_planned` event naming each account, its regions
    and why it would be left out."""
    args = [
        "run",
        "--dry-run",
        "--database-url",
        f"sqlite:///{tmp_path / 'i.db'}",
        "--organization",
        "--role-name",
        ROLE,
        "--regions",
        "us-east-1",
        "--shard",
        "0/3",
        "--log-format",
        "json",
    ]
    result = cli.run(args, sim.env())
    assert result.code == 0, result.err
    (event,) = [json.loads(line) for line in result.out.splitlines()]
    assert (event["event"], event["dry_run"]) == ("run_planned", True)
    accounts = {a["account"]: a for a in event["accounts"]}
    assert set(accounts) == {a.id for a in org.account_list()}
    listed = [a for a in accounts.values() if a["regions"]]
    assert event["scopes"] == len(listed)
    assert all(a["regions"] == ["us-east-1"] and a["left_out"] is None for a in listed)
    shard = Shard.parse("0/3")
    others = {a for a in accounts if not shard.owns(a)}
    assert others
    assert {a for a, plan in accounts.items() if plan["left_out"] == "another shard than 0/3"} == (
        others
    )


def test_a_configuration_only_aws_can_judge_is_named(
    org: Organization, sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """An OU the organization does not have stops the check as it would stop the run (exit
    2), and the check says why after naming the caller."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    missing = f"ou-{org.root_id[2:]}-zzzzzzzz"
    result = cli.run(
        check_args(url, "--role-name", ROLE, "--organizational-units", missing), sim.env()
    )
    assert result.code == 2, result.out + result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("ok    credentials:")
    assert lines[1] == (
        f"FAIL  configuration: {missing} is not an OU or the root of this organization"
    )
    assert lines[-1].startswith("a run would stop at once")
