"""Regions as real AWS has them: opt-in regions decided by AppFlow's own answer whatever EC2
does, partitions, FIPS endpoints, and regions known only from botocore's endpoint data."""

from __future__ import annotations

import random
import time
from pathlib import Path

from collector.simulator import (
    PROFILES,
    DeadEndpoint,
    Organization,
    Simulator,
    generate_organization,
)
from collector.simulator import make_profile as make_sim_profile

from ..support import ROLE, Cli, fetch

OPT_IN = "af-south-1"
HOME = "us-east-1"


def opt_in_org(accounts: int = 4) -> Organization:
    """`accounts` accounts with profiles in us-east-1; only the first enabled af-south-1."""
    org = generate_organization(
        seed=31,
        accounts=accounts,
        empty_fraction=0.0,
        profiles_per_scope=(1, 2),
        regions=(OPT_IN, HOME),
        opt_in_fraction=0.0,
    )
    first = org.account_list()[0]
    first.enabled_opt_in_regions.add(OPT_IN)
    org.put(
        PROFILES,
        first.id,
        OPT_IN,
        make_sim_profile("Slack", "cape-town", first.id, OPT_IN, random.Random(2)),
    )
    return org


def scope_rows(url: str, region: str) -> dict[str, tuple[str, str | None]]:
    rows = fetch(
        url,
        "SELECT account_id, status, error_code FROM collection_scopes WHERE region = :region",
        region=region,
    )
    return {r["account_id"]: (r["status"], r["error_code"]) for r in rows}


def test_disabled_opt_in_region_is_skipped_when_ec2_refuses_connections(
    sqlite_url: str, cli: Cli
) -> None:
    """With the EC2 endpoint refusing connections, a disabled opt-in region is still
    `skipped`/`region_not_enabled` (AppFlow's answer decides), and the run exits 0."""
    org = opt_in_org()
    enabled, *disabled = [a.id for a in org.account_list()]
    with Simulator(org) as sim, DeadEndpoint("refuse") as ec2:
        env = {**sim.env(), "AWS_ENDPOINT_URL_EC2": ec2.url}
        result = cli.run(
            [
                "run",
                "--database-url",
                sqlite_url,
                "--organization",
                "--role-name",
                ROLE,
                "--regions",
                f"{OPT_IN},{HOME}",
            ],
            env,
        )
    assert result.code == 0, result.err
    rows = scope_rows(sqlite_url, OPT_IN)
    assert rows[enabled] == ("succeeded", None)
    assert {rows[a] for a in disabled} == {("skipped", "region_not_enabled")}
    assert fetch(sqlite_url, "SELECT status FROM collection_runs") == [{"status": "succeeded"}]


def test_silent_ec2_costs_no_timeout_per_account(sqlite_url: str, cli: Cli) -> None:
    """An EC2 endpoint that accepts and never answers adds no wait at all when AppFlow's answer
    is enough: four accounts finish in seconds, not four read timeouts, and EC2 is not asked."""
    org = opt_in_org()
    with Simulator(org) as sim, DeadEndpoint("silent") as ec2:
        env = {**sim.env(), "AWS_ENDPOINT_URL_EC2": ec2.url}
        started = time.monotonic()
        result = cli.run(
            [
                "run",
                "--database-url",
                sqlite_url,
                "--organization",
                "--role-name",
                ROLE,
                "--regions",
                f"{OPT_IN},{HOME}",
                "--read-timeout",
                "20",
            ],
            env,
        )
        elapsed = time.monotonic() - started
        ec2_calls = sim.stats.count("ec2")
    assert result.code == 0, result.err
    assert elapsed < 10, elapsed
    assert ec2_calls == 0
    assert set(scope_rows(sqlite_url, OPT_IN).values()) == {
        ("succeeded", None),
        ("skipped", "region_not_enabled"),
    }


def test_caller_account_proven_elsewhere_is_skipped_without_ec2(sqlite_url: str, cli: Cli) -> None:
    """Without a role, a successful AppFlow call of the account in a region every account has
    proves its credentials: the disabled opt-in region is skipped and EC2 is never asked."""
    org = opt_in_org(accounts=1)
    org.account_list()[0].enabled_opt_in_regions.clear()
    with Simulator(org) as sim, DeadEndpoint("silent") as ec2:
        env = {**sim.env(), "AWS_ENDPOINT_URL_EC2": ec2.url}
        result = cli.run(
            ["run", "--database-url", sqlite_url, "--regions", f"{OPT_IN},{HOME}"], env
        )
        ec2_calls = sim.stats.count("ec2")
    assert result.code == 0, result.err
    caller = org.management_account_id
    assert scope_rows(sqlite_url, OPT_IN) == {caller: ("skipped", "region_not_enabled")}
    assert ec2_calls == 0


def test_ambiguous_opt_in_asks_a_silent_ec2_once_briefly(sqlite_url: str, cli: Cli) -> None:
    """With no proof of the credentials, EC2 is asked with one short attempt; if it is silent
    the scope fails as `access_denied` (nothing proves the region disabled), after one read
    timeout rather than five."""
    org = opt_in_org(accounts=1)
    org.account_list()[0].enabled_opt_in_regions.clear()
    with Simulator(org) as sim, DeadEndpoint("silent") as ec2:
        env = {**sim.env(), "AWS_ENDPOINT_URL_EC2": ec2.url}
        started = time.monotonic()
        result = cli.run(
            [
                "run",
                "--database-url",
                sqlite_url,
                "--regions",
                OPT_IN,
                "--read-timeout",
                "1",
            ],
            env,
        )
        elapsed = time.monotonic() - started
    assert result.code == 1
    rows = fetch(sqlite_url, "SELECT region, status, error_code FROM collection_scopes")
    assert {(r["region"], r["status"], r["error_code"]) for r in rows} == {
        (OPT_IN, "failed", "access_denied"),
    }
    assert result.err.count("ec2:DescribeRegions cannot be reached") == 1
    assert elapsed < 4, elapsed


def test_ec2_answering_decides_an_ambiguous_opt_in_region(sqlite_url: str, cli: Cli) -> None:
    """Without proof from AppFlow, a reachable EC2 saying `not-opted-in` makes the scope
    `skipped`; one DescribeRegions call for the run."""
    org = opt_in_org(accounts=1)
    org.account_list()[0].enabled_opt_in_regions.clear()
    with Simulator(org) as sim:
        result = cli.run(["run", "--database-url", sqlite_url, "--regions", OPT_IN], sim.env())
        ec2_calls = sim.stats.count("ec2", "DescribeRegions")
    assert result.code == 0, result.err
    assert scope_rows(sqlite_url, OPT_IN) == {
        org.management_account_id: ("skipped", "region_not_enabled")
    }
    assert ec2_calls == 1


# --- partitions, FIPS, regions from botocore's data ---------------------------------------------


def test_partition_without_appflow_is_refused_up_front(empty_sqlite_url: str, cli: Cli) -> None:
    """GovCloud credentials (the caller's ARN says `aws-us-gov`) exit 2 with one line, before
    the database is created."""
    org = generate_organization(seed=5, accounts=2, regions=(HOME,))
    org.partition = "aws-us-gov"
    with Simulator(org) as sim:
        result = cli.run(["run", "--database-url", empty_sqlite_url], sim.env())
        appflow_calls = sim.stats.count("appflow")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "AppFlow is not available in the AWS partition 'aws-us-gov'" in lines[0]
    assert appflow_calls == 0
    assert not Path(empty_sqlite_url.removeprefix("sqlite:///")).exists()


def test_region_not_in_the_partition_is_refused_before_the_database(
    empty_sqlite_url: str, cli: Cli
) -> None:
    """A region of another partition's form (China's, for credentials of `aws`) exits 2
    naming it and the known regions, with no database file and no run row."""
    org = generate_organization(seed=5, accounts=2, regions=(HOME,))
    with Simulator(org) as sim:
        result = cli.run(
            ["run", "--database-url", empty_sqlite_url, "--regions", "us-east-1,cn-north-1"],
            sim.env(),
        )
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "region 'cn-north-1' is not an AppFlow region (known: af-south-1," in lines[0]
    assert not Path(empty_sqlite_url.removeprefix("sqlite:///")).exists()


NEWER = "eu-central-2"  # a region of `aws` that botocore's data does not list for AppFlow


def test_a_region_newer_than_the_endpoint_data_is_tried(sqlite_url: str, cli: Cli) -> None:
    """A region of the partition's form that botocore's AppFlow endpoint data does not list
    is tried, with one warning, and collected where AppFlow answers; `--regions all` still
    lists the data's regions only."""
    org = generate_organization(
        seed=8, accounts=2, regions=(HOME, NEWER), empty_fraction=0.0, opt_in_fraction=0.0
    )
    for account in org.account_list():
        account.enabled_opt_in_regions.add(NEWER)
        org.put(
            PROFILES,
            account.id,
            NEWER,
            make_sim_profile("Slack", "zurich", account.id, NEWER, random.Random(3)),
        )
    with Simulator(org) as sim:
        result = cli.collect(sqlite_url, sim, (HOME, NEWER))
        everywhere = cli.collect(sqlite_url, sim, "all")
    assert result.code == 0, result.err
    assert result.err.count(f"region {NEWER} is not one botocore's endpoint data lists") == 1
    assert set(scope_rows(sqlite_url, NEWER).values()) == {("succeeded", None)}
    stored = fetch(
        sqlite_url, "SELECT count(*) AS n FROM connector_profiles WHERE region = :r", r=NEWER
    )
    assert stored == [{"n": len(org.account_list())}]
    assert everywhere.code == 0, everywhere.err
    regions = {r["region"] for r in fetch(sqlite_url, "SELECT region FROM collection_scopes")}
    assert len(regions - {NEWER}) == 16


def test_a_newer_region_that_does_not_answer_is_region_unreachable(
    sqlite_url: str, cli: Cli
) -> None:
    """A region of the partition's form where AppFlow does not answer (its endpoint does not
    exist) fails its scopes as `region_unreachable`, saying why; a typo of a known region is
    named in the warning."""
    org = generate_organization(seed=9, accounts=1, regions=(HOME,), opt_in_fraction=0.0)
    with Simulator(org) as sim:
        result = cli.collect(sqlite_url, sim, (HOME, "us-east-11"), "--max-attempts", "1")
    assert result.code == 1
    assert "did you mean us-east-1?" in result.err
    assert set(scope_rows(sqlite_url, "us-east-11").values()) == {("failed", "region_unreachable")}
    (row,) = fetch(
        sqlite_url,
        "SELECT error_message FROM collection_scopes WHERE region = 'us-east-11' LIMIT 1",
    )
    assert "is not in botocore's AppFlow endpoint data" in row["error_message"]


def test_all_regions_come_from_the_endpoint_data(sqlite_url: str, cli: Cli) -> None:
    """`--regions all` lists the 16 regions botocore's endpoint data gives AppFlow in `aws`."""
    org = generate_organization(seed=6, accounts=1, regions=(HOME,), empty_fraction=1.0)
    with Simulator(org) as sim:
        result = cli.run(["run", "--database-url", sqlite_url, "--regions", "all"], sim.env())
    assert result.code == 0, result.err
    regions = {r["region"] for r in fetch(sqlite_url, "SELECT region FROM collection_scopes")}
    assert len(regions) == 16
    assert {"af-south-1", "us-east-1", "sa-east-1", "ca-central-1"} <= regions


def test_fips_lists_only_regions_with_a_fips_endpoint(sqlite_url: str, cli: Cli) -> None:
    """With AWS_USE_FIPS_ENDPOINT=true, `--regions all` is the four US regions that have a
    FIPS AppFlow endpoint, instead of 12 regions failing as connection errors."""
    org = generate_organization(seed=7, accounts=1, regions=(HOME,), empty_fraction=1.0)
    with Simulator(org) as sim:
        env = {**sim.env(), "AWS_USE_FIPS_ENDPOINT": "true"}
        result = cli.run(["run", "--database-url", sqlite_url, "--regions", "all"], env)
    assert result.code == 0, result.err
    regions = {r["region"] for r in fetch(sqlite_url, "SELECT region FROM collection_scopes")}
    assert regions == {"us-east-1", "us-east-2", "us-west-1", "us-west-2"}


def test_fips_with_a_region_without_fips_endpoint_is_refused(sqlite_url: str, cli: Cli) -> None:
    """Under FIPS, naming a region with no FIPS AppFlow endpoint exits 2 with one line."""
    org = generate_organization(seed=7, accounts=1, regions=(HOME,))
    with Simulator(org) as sim:
        env = {**sim.env(), "AWS_USE_FIPS_ENDPOINT": "true"}
        result = cli.run(["run", "--database-url", sqlite_url, "--regions", "eu-west-1"], env)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "'eu-west-1' is not an AppFlow region with a FIPS endpoint" in lines[0]


def test_role_name_with_an_iam_path(sqlite_url: str, cli: Cli) -> None:
    """`--role-name team/Reader` assumes `arn:aws:iam::<account>:role/team/Reader`; the same
    name without its path is refused by STS, as IAM would (in every account, the caller's
    own too: it is not collected with the caller's credentials here)."""
    org = generate_organization(seed=8, accounts=2, regions=(HOME,), empty_fraction=0.0)
    org.member_role_path = "/team/"
    base = ["run", "--database-url", sqlite_url, "--organization", "--regions", HOME]
    with Simulator(org) as sim:
        with_path = cli.run([*base, "--role-name", f"team/{ROLE}"], sim.env())
        without = cli.run([*base, "--role-name", ROLE, "--no-caller-credentials"], sim.env())
    assert with_path.code == 0, with_path.err
    assert without.code == 1
    runs = fetch(
        sqlite_url,
        "SELECT r.status, s.error_code FROM collection_runs r "
        "JOIN collection_scopes s USING (run_id) ORDER BY r.started_at",
    )
    assert {(r["status"], r["error_code"]) for r in runs} == {
        ("succeeded", None),
        ("failed", "assume_role_failed"),
    }
