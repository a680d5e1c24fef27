"""Responses real AWS may send and hostile endpoints can: odd values, empty pages without
their list, huge bodies, deep JSON, overfull pages, endless Organizations paging.

Each fails at most its own scope (or the account discovery, with a clear error); none ends
the run or its memory budget.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from collector._aws import RetryPolicy
from collector.simulator import (
    PROFILES,
    Faults,
    Organization,
    Simulator,
    generate_organization,
    make_profile,
)

from ..support import Cli, as_json, collector_command, fetch, run_args

REGIONS = ("us-east-1", "eu-west-1")
# The paging faults apply to this listing (Faults.paging_fault_operations).
PROFILE_LISTING = "DescribeConnectorProfiles"


def small_org(seed: int = 51) -> Organization:
    """Two accounts x two regions, every scope holding a few profiles."""
    return generate_organization(
        seed=seed, accounts=2, empty_fraction=0.0, profiles_per_scope=(2, 4), regions=REGIONS
    )


def scopes(url: str) -> dict[tuple[str, str], dict[str, Any]]:
    rows = fetch(url, "SELECT * FROM collection_scopes")
    return {(r["account_id"], r["region"]): r for r in rows}


def target(org: Organization) -> tuple[str, str]:
    return (org.account_list()[1].id, "eu-west-1")


def assert_only_target_failed(url: str, org: Organization, code: str, aws_code: str) -> None:
    rows = scopes(url)
    bad = target(org)
    assert (rows[bad]["status"], rows[bad]["error_code"]) == ("failed", code)
    assert rows[bad]["aws_error_code"] == aws_code
    others = [r for key, r in rows.items() if key != bad]
    assert len(others) == 3
    assert {r["status"] for r in others} == {"succeeded"}
    assert fetch(url, "SELECT status FROM collection_runs") == [{"status": "partial"}]


# --- odd values ----------------------------------------------------------------------------


def test_out_of_range_values_are_stored_not_fatal(sqlite_url: str, cli: Cli) -> None:
    """A profile with a timestamp in milliseconds, `1e20` and a number for a name is stored:
    its typed columns are NULL, its snapshot keeps the values exactly as sent, its scope
    succeeds, the run exits 0, and each value is logged once."""
    org = small_org()
    account, region = target(org)
    odd = make_profile("Slack", "odd-one", account, region, random.Random(5))
    odd.update(createdAt=1_700_000_000_123, lastUpdatedAt=1e20, connectionMode=42)
    org.put(PROFILES, account, region, odd)
    with Simulator(org) as sim:
        result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 0, result.err
    row = fetch(
        sqlite_url,
        "SELECT created_at, last_updated_at, connection_mode, connector_profile_name "
        "FROM connector_profiles WHERE connector_profile_arn = :arn",
        arn=odd["connectorProfileArn"],
    )[0]
    assert (row["created_at"], row["last_updated_at"], row["connection_mode"]) == (None,) * 3
    assert row["connector_profile_name"] == "odd-one"
    snapshot = as_json(
        fetch(
            sqlite_url,
            "SELECT snapshot FROM connector_profile_versions WHERE connector_profile_arn = :arn",
            arn=odd["connectorProfileArn"],
        )[0]["snapshot"]
    )
    assert snapshot["createdAt"] == 1_700_000_000_123
    assert snapshot["lastUpdatedAt"] == 1e20
    assert snapshot["connectionMode"] == 42
    assert {r["status"] for r in scopes(sqlite_url).values()} == {"succeeded"}
    for field in ("createdAt", "lastUpdatedAt", "connectionMode"):
        assert result.err.count(f"odd-one: {field}") == 1, result.err


def test_empty_page_without_its_list_is_an_empty_scope(sqlite_url: str, cli: Cli) -> None:
    """A valid JSON object without `connectorProfileDetails` (and without `nextToken`) is a
    complete empty listing: the scope succeeds at once, and what it held is marked deleted."""
    org = small_org()
    account, region = target(org)
    with Simulator(org) as sim:
        assert cli.collect(sqlite_url, sim, REGIONS).code == 0
        held = {str(p["connectorProfileArn"]) for p in org.items(PROFILES, account, region)}
        for profile in org.items(PROFILES, account, region):
            org.delete(PROFILES, account, region, str(profile["connectorProfileName"]))
        sim.faults.omit_empty_list_scopes.add((account, region))
        sim.stats.reset()
        result = cli.collect(sqlite_url, sim, REGIONS)
        calls = sim.stats.scope_count((account, region), PROFILE_LISTING)
    assert result.code == 0, result.err
    assert calls == 1  # not retried as an invalid response
    run = fetch(sqlite_url, "SELECT run_id FROM collection_runs ORDER BY started_at DESC")[0]
    row = fetch(
        sqlite_url,
        "SELECT status, complete, profiles FROM collection_scopes "
        "WHERE run_id = :run AND account_id = :account AND region = :region",
        run=run["run_id"],
        account=account,
        region=region,
    )[0]
    assert (row["status"], row["complete"], row["profiles"]) == ("succeeded", True, 0)
    deleted = fetch(
        sqlite_url,
        "SELECT connector_profile_arn FROM connector_profiles WHERE deleted_at IS NOT NULL",
    )
    assert {r["connector_profile_arn"] for r in deleted} == held


_NOT_A_PAGE = "InvalidResponse"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param(b"[]", _NOT_A_PAGE, id="a list"),
        pytest.param(b'"profiles"', _NOT_A_PAGE, id="a string"),
        pytest.param(b"null", _NOT_A_PAGE, id="null"),
        pytest.param(b'{"connectorProfileDetails": {}}', _NOT_A_PAGE, id="details an object"),
        pytest.param(b'{"connectorProfileDetails": [1]}', _NOT_A_PAGE, id="details not objects"),
        pytest.param(b'{"connectorProfileDetails": [], "nextToken": 7}', _NOT_A_PAGE, id="token"),
        pytest.param(b'{"connectorProfileDetails": [{"createdAt": NaN}]}', "InvalidJson", id="NaN"),
        pytest.param(
            b'{"connectorProfileDetails": [{"connectorProfileArn": "arn:aws:appflow:eu-west-1:'
            b'1:connectorprofile/x", "connectorProfileName": "\\ud800"}]}',
            "InvalidProfileData",
            id="a lone surrogate",
        ),
    ],
)
def test_a_body_of_the_wrong_shape_fails_only_its_scope(
    sqlite_url: str, cli: Cli, body: bytes, code: str
) -> None:
    """A 200 answer that is not a page (not an object, members of the wrong type, NaN) fails
    its scope as `invalid_response` once its attempts are spent (a proxy's odd answer may be
    transient, like a cut-short body); a page holding a profile no database can store (a
    lone surrogate) fails it at once. The other scopes succeed."""
    org = small_org()
    with Simulator(org) as sim:
        sim.faults.odd_body_scopes[target(org)] = body
        result = cli.collect(sqlite_url, sim, REGIONS)
        calls = sim.stats.scope_count(target(org), PROFILE_LISTING)
    assert result.code == 1, result.err
    assert "internal error" not in result.err
    assert_only_target_failed(sqlite_url, org, "invalid_response", code)
    assert calls == (1 if code == "InvalidProfileData" else RetryPolicy().max_attempts)
    assert fetch(sqlite_url, "SELECT COUNT(*) AS n FROM connector_profiles")[0]["n"] == sum(
        len(org.items(PROFILES, a.id, r)) for a in org.account_list() for r in REGIONS
    ) - len(org.items(PROFILES, *target(org)))


# --- bounded input -------------------------------------------------------------------------


def _deep(levels: int) -> Callable[[Organization, Faults], None]:
    def fault(org: Organization, faults: Faults) -> None:
        faults.deep_json_scopes[target(org)] = levels

    return fault


def _overfull(org: Organization, faults: Faults) -> None:
    account, region = target(org)
    rng = random.Random(6)
    for n in range(120):
        org.put(PROFILES, account, region, make_profile("S3", f"bulk-{n}", account, region, rng))
    faults.overfull_page_scopes.add((account, region))


def _huge(*, chunked: bool) -> Callable[[Organization, Faults], None]:
    def fault(org: Organization, faults: Faults) -> None:
        faults.huge_body_scopes[target(org)] = 50 * 1024 * 1024
        faults.chunked_bodies = chunked

    return fault


@pytest.mark.parametrize(
    ("fault", "aws_code"),
    [
        # Nested 100,000 levels deep: no RecursionError ends the run.
        pytest.param(_deep(100_000), "InvalidResponse", id="json nested 100,000 deep"),
        # JSON that Python can parse but nests beyond the bound (200 levels).
        pytest.param(_deep(200), "InvalidResponse", id="json nested 200 deep"),
        # More profiles than `maxResults` (120 for 100).
        pytest.param(_overfull, "TooManyProfiles", id="page with 120 profiles for 100 asked"),
        # 50 MB announced by Content-Length: refused without being read.
        pytest.param(_huge(chunked=False), "ResponseTooLarge", id="body declared 50 MB"),
        # 50 MB sent chunked, without a length: cut off at the bound.
        pytest.param(_huge(chunked=True), "ResponseTooLarge", id="body chunked 50 MB"),
    ],
)
def test_input_past_a_bound_fails_only_its_scope(
    fault: Callable[[Organization, Faults], None], aws_code: str, sqlite_url: str, cli: Cli
) -> None:
    """A page past one of the collector's bounds fails its scope as `invalid_response`, once
    (it is no weather to retry), storing nothing of it, without an internal error."""
    org = small_org()
    with Simulator(org) as sim:
        fault(org, sim.faults)
        result = cli.collect(sqlite_url, sim, REGIONS)
        calls = sim.stats.scope_count(target(org), PROFILE_LISTING)
    assert result.code == 1, result.err
    assert "internal error" not in result.err
    assert_only_target_failed(sqlite_url, org, "invalid_response", aws_code)
    assert calls == 1
    account, region = target(org)
    stored = fetch(
        sqlite_url,
        "SELECT count(*) AS n FROM connector_profiles WHERE account_id = :a AND region = :r",
        a=account,
        r=region,
    )
    assert stored == [{"n": 0}]


# The collector in a child process, reporting the child's peak RSS in kilobytes.
_PEAK_RSS = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def test_huge_chunked_body_never_reaches_memory(sqlite_url: str) -> None:
    """A 400 MB chunked page costs the collector process no more than the bound: its peak
    RSS stays far below the size of the body."""
    org = small_org()
    with Simulator(org) as sim:
        sim.faults.huge_body_scopes[target(org)] = 400 * 1024 * 1024
        sim.faults.chunked_bodies = True
        command = collector_command(*run_args(sqlite_url, REGIONS))
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS, *command],
            env={**os.environ, **sim.env()},
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 1, done.stderr
    peak_mb = int(done.stdout.strip().splitlines()[-1]) / 1024
    assert peak_mb < 250, peak_mb
    assert_only_target_failed(sqlite_url, org, "invalid_response", "ResponseTooLarge")


@pytest.mark.slow
def test_endless_organizations_paging_is_a_clear_discovery_error(sqlite_url: str, cli: Cli) -> None:
    """`ListAccounts` that never stops paging (empty pages, each with a new NextToken) ends the
    discovery after the documented bound, with one clear error; the run is recorded as failed
    and exits 1."""
    org = small_org()
    with Simulator(org) as sim:
        sim.faults.endless_organization_pages = True
        result = cli.collect(sqlite_url, sim, REGIONS)
        calls = sim.stats.count("organizations", "ListAccounts")
    assert result.code == 1, result.err
    assert calls == 2500
    run = fetch(sqlite_url, "SELECT status, error_message FROM collection_runs")[0]
    assert run["status"] == "failed"
    assert "ListAccounts returned more than 2500 pages" in run["error_message"]
    assert "ListAccounts returned more than 2500 pages" in result.err


def test_empty_organizations_pages_with_a_token_are_followed(sqlite_url: str, cli: Cli) -> None:
    """Organizations pages that are empty but carry a NextToken are followed to the accounts
    after them: every account is found."""
    org = generate_organization(seed=52, accounts=25, empty_fraction=1.0, regions=("us-east-1",))
    with Simulator(org) as sim:
        sim.faults.empty_organization_pages = 2
        result = cli.collect(sqlite_url, sim, "us-east-1")
        calls = sim.stats.count("organizations", "ListAccounts")
    assert result.code == 0, result.err
    assert calls == 3 * 2  # two pages of accounts, each after two empty ones
    found = {r["account_id"] for r in fetch(sqlite_url, "SELECT account_id FROM accounts")}
    assert found == {a.id for a in org.account_list()}
