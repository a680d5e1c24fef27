"""A whole run through transient faults: with 500s, 429s and dropped connections, retries
still store every profile once.

A file of its own: the run is long and mostly waits (throttled calls back off for a second
and more, on purpose), so that it runs beside the other files rather than after them.
"""

from __future__ import annotations

import pytest

from collector.simulator import Faults, Organization, Simulator, generate_organization

from ..support import Cli, fetch, profile_arns

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


@pytest.mark.slow
def test_transient_faults_lose_nothing(
    inventory_url: str, org: Organization, faults: Faults, sim: Simulator, cli: Cli
) -> None:
    """With 500s, 429s and dropped connections, retries still store every profile once."""
    faults.error_rate_500 = 0.1
    faults.error_rate_429 = 0.1
    faults.drop_rate = 0.05
    assert cli.collect(inventory_url, sim, REGIONS, "--max-attempts", "12").code == 0
    stored = fetch(inventory_url, "SELECT connector_profile_arn FROM connector_profiles")
    assert sorted(r["connector_profile_arn"] for r in stored) == sorted(profile_arns(org))
    runs = fetch(inventory_url, "SELECT retries, requests FROM collection_runs")
    assert runs[0]["retries"] > 0
    attempts = fetch(
        inventory_url, "SELECT sum(attempts) AS a, sum(pages) AS p FROM collection_scopes"
    )
    assert attempts[0]["a"] > attempts[0]["p"]
