"""An account's AppFlow calls throttled for as long as the run lasts: the collector slows
that account down instead of giving up."""

from __future__ import annotations

import pytest

from collector.simulator import Organization, Simulator, generate_organization

from ..support import Cli, fetch

REGIONS = ("us-east-1", "eu-west-1")


@pytest.mark.slow
def test_a_rate_limited_account_is_collected_whole(sqlite_url: str, cli: Cli) -> None:
    """AppFlow allowing each account 2 calls a second (bursts of 2) throttles a run that asks
    faster; the throttled accounts slow down, every scope is collected and nothing fails.
    (Slow by nature: the accounts' calls are paced to AWS's rate, a few seconds' worth.)"""
    org: Organization = generate_organization(
        seed=61,
        accounts=2,
        empty_fraction=0.0,
        profiles_per_scope=(1, 3),
        regions=REGIONS,
        flows_per_profile=1.0,
        opt_in_fraction=0.0,
    )
    with Simulator(org) as sim:
        sim.faults.rate_limits["appflow"] = (2.0, 2.0)
        result = cli.collect(sqlite_url, sim, REGIONS, "--max-attempts", "6")
        throttled = sim.stats.statuses.get(429, 0)
    assert result.code == 0, result.err
    assert throttled > 0
    scopes = fetch(sqlite_url, "SELECT status, complete FROM collection_scopes")
    assert {(s["status"], bool(s["complete"])) for s in scopes} == {("succeeded", True)}
    assert len(scopes) == len(org.account_list()) * len(REGIONS)
