"""A whole run through transient faults: with 500s, 429s and dropped connections, retries
still store every profile once.

The faults are the simulator's (every AppFlow call may fail), the backoff and the accounts'
pacing the collector's own; the run waits on an injected clock, because at one throttle in
ten the pacing slows each account to about two requests a second, a minute of waiting that
proves nothing more than the clock does.
"""

from __future__ import annotations

import pytest

from collector._model.run import RunStatus
from collector.simulator import Faults, Organization, Simulator, generate_organization

from ..support import SharedClock, collect_on_clock, fetch, profile_arns, run_settings

REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture
def org() -> Organization:
    """Six accounts in two regions, some scopes empty and some of several pages."""
    return generate_organization(
        seed=11, accounts=6, empty_fraction=0.3, profiles_per_scope=(1, 45), regions=REGIONS
    )


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=5)


def test_transient_faults_lose_nothing(
    inventory_url: str,
    org: Organization,
    faults: Faults,
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With 500s, 429s and dropped connections, retries still store every profile once."""
    faults.error_rate_500 = 0.1
    faults.error_rate_429 = 0.1
    faults.drop_rate = 0.05
    clock = SharedClock()
    settings = run_settings(inventory_url, REGIONS)
    result = collect_on_clock(sim, settings, clock, 7, monkeypatch, max_attempts=12)
    assert result.status is RunStatus.SUCCEEDED, result.error
    stored = fetch(inventory_url, "SELECT connector_profile_arn FROM connector_profiles")
    assert sorted(r["connector_profile_arn"] for r in stored) == sorted(profile_arns(org))
    runs = fetch(inventory_url, "SELECT retries, requests FROM collection_runs")
    assert runs[0]["retries"] > 0
    attempts = fetch(
        inventory_url, "SELECT sum(attempts) AS a, sum(pages) AS p FROM collection_scopes"
    )
    assert attempts[0]["a"] > attempts[0]["p"]
    # The waits were the collector's backoff and pacing, on the clock: throttled calls
    # backed off from their one-second base, and no run slept through them.
    assert sum(clock.sleeps) > 10.0
