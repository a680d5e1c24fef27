"""Opt-in regions: skipped, with a reason, where an account has not enabled them."""

from __future__ import annotations

import random

from collector.simulator import PROFILES, Simulator, generate_organization, make_profile

from ..support import Cli, fetch


def test_opt_in_region_not_enabled_is_skipped_not_failed(sqlite_url: str, cli: Cli) -> None:
    """Accounts without af-south-1 get a `skipped` scope; enabled ones are listed; exit 0."""
    org = generate_organization(
        seed=4,
        accounts=4,
        empty_fraction=0.0,
        profiles_per_scope=(1, 3),
        regions=("af-south-1", "us-east-1"),
        opt_in_fraction=0.0,
    )
    enabled, *disabled = [a.id for a in org.account_list()]
    org.account_list()[0].enabled_opt_in_regions.add("af-south-1")
    org.put(
        PROFILES,
        enabled,
        "af-south-1",
        make_profile("Slack", "cape-town", enabled, "af-south-1", random.Random(1)),
    )
    with Simulator(org) as sim:
        assert cli.collect(sqlite_url, sim, "all").code == 0
        describe_regions_calls = sim.stats.count("ec2", "DescribeRegions")
    scopes = fetch(
        sqlite_url,
        "SELECT account_id, region, status, error_code "
        "FROM collection_scopes WHERE region = 'af-south-1'",
    )
    by_account = {s["account_id"]: (s["status"], s["error_code"]) for s in scopes}
    assert by_account[enabled] == ("succeeded", None)
    assert {by_account[a] for a in disabled} == {("skipped", "region_not_enabled")}
    listed = fetch(
        sqlite_url, "SELECT DISTINCT account_id FROM connector_profiles WHERE region = 'af-south-1'"
    )
    assert [r["account_id"] for r in listed] == [enabled]
    # AppFlow's own answer decides: with freshly assumed roles, EC2 is never asked.
    assert describe_regions_calls == 0
