"""Retries of the calls around the listings, as AWS's SDKs do them: Organizations bursts of
throttling are ridden out and resume from their own NextToken, and a transient AssumeRole
failure is tried again by the account's next scope instead of failing all its regions.

Where the waits add up to tens of seconds, the run is driven through `run_collection` with
an injected clock that the simulator shares: no test sleeps that long.
"""

from __future__ import annotations

import pytest

from collector._model.run import RunStatus
from collector.simulator import Burst, Organization, Simulator, generate_organization

from ..support import Cli, SharedClock, collect_on_clock, fetch, run_settings

REGION = "us-east-1"


def org_of(accounts: int) -> Organization:
    return generate_organization(
        seed=41, accounts=accounts, empty_fraction=0.5, profiles_per_scope=(1, 2), regions=(REGION,)
    )


def test_thirty_second_organizations_throttling_is_ridden_out(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ListAccounts` answering TooManyRequestsException (400) for 30 s is retried with
    throttling backoff until it passes: the run succeeds with every account, having waited
    at least the 30 s (on the injected clock)."""
    clock = SharedClock()
    burst = Burst("throttle", seconds=30.0)
    settings = run_settings(sqlite_url, (REGION,))
    with Simulator(org_of(45), clock=clock) as sim:
        sim.faults.bursts["organizations:ListAccounts"] = burst
        result = collect_on_clock(sim, settings, clock, 3, monkeypatch)
        list_calls = sim.stats.count("organizations", "ListAccounts")
        throttled = sim.stats.statuses[400]
    assert result.status is RunStatus.SUCCEEDED, result.error
    assert throttled == burst.served > 5  # more than the five attempts of before
    assert list_calls == burst.served + 3  # then the three pages, each once
    assert sum(clock.sleeps) >= 30.0
    assert max(clock.sleeps) <= 20.0  # the cap
    assert len(fetch(sqlite_url, "SELECT account_id FROM accounts")) == 45


def test_throttled_list_accounts_resumes_from_its_own_token(sqlite_url: str, cli: Cli) -> None:
    """A throttled second page of `ListAccounts` is retried with its own NextToken: the first
    page is not asked again, and all 45 accounts are collected."""
    org = org_of(45)
    with Simulator(org) as sim:
        sim.faults.bursts["organizations:ListAccounts"] = Burst("throttle", requests=2, after=1)
        result = cli.collect(sqlite_url, sim, REGION)
        list_calls = sim.stats.count("organizations", "ListAccounts")
    assert result.code == 0, result.err
    assert list_calls == 3 + 2
    assert len(fetch(sqlite_url, "SELECT account_id FROM accounts")) == 45
    run = fetch(sqlite_url, "SELECT status, retries FROM collection_runs")[0]
    assert (run["status"], run["retries"]) == ("succeeded", 2)


@pytest.mark.slow
def test_transient_assume_role_failure_is_not_remembered(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AssumeRole failing with 5xx until its attempts run out fails only the scope that
    asked; the account's next scope assumes the role again and succeeds."""
    org = generate_organization(
        seed=42,
        accounts=2,
        empty_fraction=0.0,
        profiles_per_scope=(1, 2),
        regions=("us-east-1", "eu-west-1"),
    )
    clock = SharedClock()
    settings = run_settings(sqlite_url, ("us-east-1", "eu-west-1"), concurrency=1)
    with Simulator(org, clock=clock) as sim:
        sim.faults.bursts["sts:AssumeRole"] = Burst("server_error", requests=8)
        result = collect_on_clock(sim, settings, clock, 4, monkeypatch)
        assume_calls = sim.stats.count("sts", "AssumeRole")
    assert result.status is RunStatus.PARTIAL
    rows = fetch(sqlite_url, "SELECT account_id, region, status, error_code FROM collection_scopes")
    failed = [(r["region"], r["error_code"]) for r in rows if r["status"] != "succeeded"]
    first = org.account_list()[0].id
    assert failed == [("us-east-1", "server_error")]
    assert {r["account_id"] for r in rows if r["status"] == "succeeded"} == {
        a.id for a in org.account_list()
    }
    assert next(r for r in rows if r["status"] == "failed")["account_id"] == first
    # Eight attempts for the first scope, then one AssumeRole per account that worked.
    assert assume_calls == 8 + 2
