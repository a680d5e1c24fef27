"""A value the database refuses fails only its own scope, not the batch or the run."""

from __future__ import annotations

import random

from collector.simulator import PROFILES, Simulator, generate_organization, make_profile

from ..support import Cli, fetch


def test_refused_scope_fails_alone(postgres_url: str, cli: Cli) -> None:
    """An ARN longer than its column fails that scope as invalid_response; the rest is stored."""
    org = generate_organization(
        seed=3, accounts=4, empty_fraction=0.0, profiles_per_scope=(2, 5), regions=("us-east-1",)
    )
    bad_account = org.account_list()[1].id
    profile = make_profile("Slack", "long", bad_account, "us-east-1", random.Random(1))
    profile["connectorProfileArn"] = str(profile["connectorProfileArn"]) + "x" * 3000
    org.put(PROFILES, bad_account, "us-east-1", profile)
    with Simulator(org) as sim:
        result = cli.collect(postgres_url, sim, "us-east-1")
    assert result.code == 1
    scopes = {
        s["account_id"]: s
        for s in fetch(
            postgres_url,
            "SELECT account_id, status, error_code, aws_error_code FROM collection_scopes",
        )
    }
    assert scopes[bad_account]["error_code"] == "invalid_response"
    assert scopes[bad_account]["aws_error_code"] == "UnstorableData"
    assert {s["status"] for a, s in scopes.items() if a != bad_account} == {"succeeded"}
    stored = {
        r["account_id"]
        for r in fetch(postgres_url, "SELECT DISTINCT account_id FROM connector_profiles")
    }
    assert stored == {a.id for a in org.account_list()} - {bad_account}
