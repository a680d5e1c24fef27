"""`collector run` under injected AWS faults: every case checks the exact database afterwards.

Each case starts from a clean run, deletes profiles in the simulator (in the scopes about to
fail, or everywhere), runs again with a fault, and then compares the inventory with the
simulator's truth: what could be listed is stored exactly once, each failed scope is
recorded with its class, and nothing from an incomplete listing is marked deleted. The cases
whose retries back off for seconds run the collector with its waits on an injected clock;
the others run it through the command line.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from collector._model.run import RunResult, RunStatus
from collector.simulator import (
    PROFILES,
    Faults,
    Organization,
    ScopeKey,
    Simulator,
    generate_organization,
)

from ..support import (
    Cli,
    SharedClock,
    as_json,
    assert_history_consistent,
    collect_on_clock,
    copy_postgres_database,
    fetch,
    postgres_database,
    run_args,
    run_main,
    run_settings,
)

REGIONS = ("us-east-1", "eu-west-1")
SEED = 23
PAGE = 3  # profiles per page: every scope holds 5..12 profiles, so it takes 2..4 pages


def make_org() -> Organization:
    """Four accounts x two regions, every scope non-empty and paged in threes."""
    org = generate_organization(
        seed=SEED,
        accounts=4,
        empty_fraction=0.0,
        profiles_per_scope=(5, 12),
        regions=REGIONS,
        short_page_fraction=0.0,
    )
    for account in org.account_list():
        for region in REGIONS:
            org.short_page_sizes[(account.id, region)] = PAGE
    return org


def all_scopes(org: Organization) -> list[ScopeKey]:
    return [(a.id, r) for a in org.account_list() for r in REGIONS]


def truth(org: Organization, scope: ScopeKey) -> dict[str, dict[str, Any]]:
    """The profiles the simulator holds in one scope, by ARN."""
    return {str(p["connectorProfileArn"]): p for p in org.items(PROFILES, *scope)}


def last_run(url: str) -> dict[str, Any]:
    runs = fetch(url, "SELECT * FROM collection_runs ORDER BY started_at DESC")
    return runs[0]


def last_scopes(url: str) -> dict[ScopeKey, dict[str, Any]]:
    run_id = last_run(url)["run_id"]
    rows = fetch(url, "SELECT * FROM collection_scopes WHERE run_id = :run_id", run_id=run_id)
    return {(r["account_id"], r["region"]): r for r in rows}


def profile_rows(url: str) -> dict[str, dict[str, Any]]:
    return {r["connector_profile_arn"]: r for r in fetch(url, "SELECT * FROM connector_profiles")}


def remove_first_profiles(org: Organization, scopes: list[ScopeKey]) -> dict[ScopeKey, str]:
    """Delete one profile (the one on the first page) of each scope in the simulator."""
    removed: dict[ScopeKey, str] = {}
    for scope in scopes:
        profile = org.items(PROFILES, *scope)[0]
        assert org.delete(PROFILES, *scope, str(profile["connectorProfileName"]))
        removed[scope] = str(profile["connectorProfileArn"])
    return removed


def assert_inventory(
    url: str,
    org: Organization,
    baseline: Mapping[str, Mapping[str, Any]],
    removed: Mapping[ScopeKey, str],
    *,
    failed: Mapping[ScopeKey, str] | None = None,
    allowed_codes: frozenset[str] = frozenset(),
) -> dict[ScopeKey, dict[str, Any]]:
    """The database after a faulty run, against the simulator's truth.

    `failed` names exactly which scopes must have failed and with which error code; without
    it, any scope may fail with a code in `allowed_codes`. Returns the run's scope rows.
    """
    scopes = last_scopes(url)
    assert set(scopes) == set(all_scopes(org))
    failures = {key: s["error_code"] for key, s in scopes.items() if s["status"] != "succeeded"}
    if failed is not None:
        assert failures == dict(failed)
    else:
        assert set(failures.values()) <= allowed_codes, failures
    for key in failures:
        assert scopes[key]["status"] == "failed"
        assert not scopes[key]["complete"]
    rows = profile_rows(url)
    expected_deleted = set()
    for key, scope_row in scopes.items():
        listed = truth(org, key)
        stored_here = {arn for arn, r in rows.items() if (r["account_id"], r["region"]) == key}
        live_here = {arn for arn in stored_here if rows[arn]["deleted_at"] is None}
        if key in failures:
            # An incomplete listing deletes nothing: the scope keeps what the clean run saw.
            before = {arn for arn, r in baseline.items() if (r["account_id"], r["region"]) == key}
            assert live_here == before, key
        else:
            assert scope_row["complete"], key
            assert scope_row["profiles"] == len(listed), key
            assert live_here == set(listed), key
            if key in removed:
                expected_deleted.add(removed[key])
            for arn, profile in listed.items():
                assert as_json(rows[arn]["properties"]) == profile.get(
                    "connectorProfileProperties", {}
                )
                assert rows[arn]["connector_profile_name"] == profile["connectorProfileName"]
    deleted = {arn for arn, r in rows.items() if r["deleted_at"] is not None}
    assert deleted == expected_deleted
    chains = assert_history_consistent(url)
    # The clean run created each profile once; the faulty run added only `deleted` versions.
    assert set(chains) == set(baseline)
    for arn, chain in chains.items():
        kinds = [v["change_type"] for v in chain]
        assert kinds == (["created", "deleted"] if arn in expected_deleted else ["created"])
    return scopes


def clean_run(url: str) -> None:
    """One clean `collector run` of `make_org()` into `url`."""
    org = make_org()
    with Simulator(org) as sim:
        assert run_main(run_args(url, REGIONS), sim.env()) == 0
    stored = fetch(url, "SELECT count(*) AS n FROM connector_profiles")
    assert stored == [{"n": len(org.all_items(PROFILES))}]


class Baselines:
    """Inventories after one clean run, made once per module and copied for each test."""

    def __init__(self, directory: Path) -> None:
        self.sqlite = directory / "inventory.db"
        clean_run(f"sqlite:///{self.sqlite}")
        self._template: Iterator[str] | None = None
        self._template_url = ""

    def copy_to(self, url: str) -> None:
        """Make the (empty) database at `url` a copy of the clean inventory."""
        if url.startswith("sqlite:///"):
            shutil.copyfile(self.sqlite, url.removeprefix("sqlite:///"))
            return
        if self._template is None:
            self._template = postgres_database()
            self._template_url = next(self._template)
            clean_run(self._template_url)
        copy_postgres_database(self._template_url, url)

    def close(self) -> None:
        if self._template is not None:
            next(self._template, None)


@pytest.fixture(scope="module")
def baseline_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Baselines]:
    baselines = Baselines(tmp_path_factory.mktemp("baseline"))
    try:
        yield baselines
    finally:
        baselines.close()


@pytest.fixture
def org() -> Organization:
    return make_org()


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=SEED)


def clean_start(url: str, baseline_db: Baselines, sim: Simulator) -> dict[str, dict[str, Any]]:
    """The inventory after a first clean run (a copy of the module's), as rows by ARN."""
    baseline_db.copy_to(url)
    rows = profile_rows(url)
    assert set(rows) == {str(p["connectorProfileArn"]) for _, p in sim.org.all_items(PROFILES)}
    sim.stats.reset()
    return rows


def collect_waiting_on_a_clock(
    url: str, sim: Simulator, monkeypatch: pytest.MonkeyPatch, max_attempts: int
) -> tuple[RunResult, SharedClock]:
    """`collector run` of the organization into `url`, every backoff and pacing wait on an
    injected clock: for the cases whose retries would otherwise sleep for seconds."""
    clock = SharedClock()
    settings = run_settings(url, REGIONS)
    result = collect_on_clock(sim, settings, clock, SEED, monkeypatch, max_attempts=max_attempts)
    return result, clock


def both_rates(total: float) -> float:
    """The 429 and 500 rates that together fail a request with probability `total`."""
    return 1 - math.sqrt(1 - total)


def collect_at_error_rate(
    url: str,
    rate: float,
    attempts: int,
    baseline_db: Baselines,
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A faulty run at a combined 500/429 `rate` after a clean one, checked against the truth.

    The run waits on an injected clock: at a rate of one half, its backoff alone adds up to
    tens of seconds."""
    org, faults = sim.org, sim.faults
    baseline = clean_start(url, baseline_db, sim)
    if rate >= 0.5:
        # One page per scope: at this rate the backoff of a long scope would dominate the run.
        org.short_page_sizes.clear()
    removed = remove_first_profiles(org, all_scopes(org))
    faults.error_rate_429 = faults.error_rate_500 = both_rates(rate)
    result, clock = collect_waiting_on_a_clock(url, sim, monkeypatch, attempts)
    injected = sim.stats.statuses[429] + sim.stats.statuses[500]
    assert clock.sleeps
    assert injected > 0
    allowed = frozenset({"throttled", "server_error"}) if rate >= 0.5 else frozenset()
    scopes = assert_inventory(url, org, baseline, removed, allowed_codes=allowed)
    failed = [s for s in scopes.values() if s["status"] == "failed"]
    assert result.status is (RunStatus.PARTIAL if failed else RunStatus.SUCCEEDED), result.error
    for s in failed:
        assert s["attempts"] >= attempts
    for s in scopes.values():
        assert s["attempts"] >= s["pages"]
    # Every injected error was retried, except the last one of each scope that gave up.
    assert last_run(url)["retries"] == injected - len(failed)


@pytest.mark.parametrize(("rate", "attempts"), [(0.05, 10), (0.5, 15)])
def test_server_errors_and_throttling_at_rate(
    rate: float,
    attempts: int,
    sqlite_url: str,
    baseline_db: Baselines,
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Random 500s and 429s are retried page by page; what was listed is stored exactly once."""
    collect_at_error_rate(sqlite_url, rate, attempts, baseline_db, sim, monkeypatch)


def test_server_errors_and_throttling_at_twenty_percent(
    database_url: str, baseline_db: Baselines, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a 20% 500/429 rate every scope is listed completely, on either database."""
    collect_at_error_rate(database_url, 0.2, 12, baseline_db, sim, monkeypatch)


def faulty_scope(org: Organization) -> ScopeKey:
    """The scope single-scope faults hit: the one with the most pages (at least three)."""
    scope = max(all_scopes(org), key=lambda key: (len(org.items(PROFILES, *key)), key))
    assert len(org.items(PROFILES, *scope)) > 2 * PAGE + 1
    return scope


def test_dropped_connections_are_retried(
    sqlite_url: str,
    baseline_db: Baselines,
    org: Organization,
    faults: Faults,
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Connections closed without an answer are retried until every scope is listed completely."""
    baseline = clean_start(sqlite_url, baseline_db, sim)
    removed = remove_first_profiles(org, all_scopes(org))
    faults.drop_rate = 0.2
    result, _ = collect_waiting_on_a_clock(sqlite_url, sim, monkeypatch, 10)
    assert result.status is RunStatus.SUCCEEDED, result.error
    dropped = sim.stats.statuses[0]
    assert dropped > 0
    assert_inventory(sqlite_url, org, baseline, removed, failed={})
    assert last_run(sqlite_url)["retries"] == dropped


def test_slow_scope_times_out_and_deletes_nothing(
    sqlite_url: str,
    baseline_db: Baselines,
    org: Organization,
    faults: Faults,
    sim: Simulator,
    cli: Cli,
) -> None:
    """A scope slower than --read-timeout fails as `timeout` and deletes nothing."""
    baseline = clean_start(sqlite_url, baseline_db, sim)
    slow = faulty_scope(org)
    removed = remove_first_profiles(org, [slow])
    faults.slow_scopes.add(slow)
    faults.slow_seconds = 3.0
    result = cli.collect(sqlite_url, sim, REGIONS, "--read-timeout", "0.5", "--max-attempts", "2")
    assert result.code == 1
    scopes = assert_inventory(sqlite_url, org, baseline, removed, failed={slow: "timeout"})
    assert scopes[slow]["attempts"] == 2
    assert scopes[slow]["pages"] == 0


def test_malformed_json_is_retried(
    sqlite_url: str,
    baseline_db: Baselines,
    org: Organization,
    faults: Faults,
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bodies cut short are retried like server errors, and every scope is still listed."""
    baseline = clean_start(sqlite_url, baseline_db, sim)
    removed = remove_first_profiles(org, all_scopes(org))
    faults.malformed_json_rate = 0.2
    result, _ = collect_waiting_on_a_clock(sqlite_url, sim, monkeypatch, 10)
    assert result.status is RunStatus.SUCCEEDED, result.error
    assert_inventory(sqlite_url, org, baseline, removed, failed={})
    # Only the malformed bodies were retried (the simulator counts them as 200s).
    assert last_run(sqlite_url)["retries"] > 0


def test_malformed_json_is_never_an_empty_scope(
    database_url: str,
    baseline_db: Baselines,
    org: Organization,
    faults: Faults,
    sim: Simulator,
    cli: Cli,
) -> None:
    """When every body is cut short, each scope fails as `invalid_response` and none is emptied."""
    baseline = clean_start(database_url, baseline_db, sim)
    removed = remove_first_profiles(org, all_scopes(org))
    faults.malformed_json_rate = 1.0
    result = cli.collect(database_url, sim, REGIONS, "--max-attempts", "2")
    assert result.code == 1
    every = {scope: "invalid_response" for scope in all_scopes(org)}
    scopes = assert_inventory(database_url, org, baseline, removed, failed=every)
    assert {s["attempts"] for s in scopes.values()} == {2}
    assert {s["pages"] for s in scopes.values()} == {0}
    assert last_run(database_url)["status"] == "failed"


def test_repeated_next_token_keeps_what_was_listed(
    database_url: str,
    baseline_db: Baselines,
    org: Organization,
    faults: Faults,
    sim: Simulator,
    cli: Cli,
) -> None:
    """A page that hands back its own token fails the scope as `invalid_response`, not retried."""
    baseline = clean_start(database_url, baseline_db, sim)
    looping = faulty_scope(org)
    removed = remove_first_profiles(org, [looping])
    faults.repeat_token_scopes[looping] = 2
    result = cli.collect(database_url, sim, REGIONS)
    assert result.code == 1
    scopes = assert_inventory(
        database_url, org, baseline, removed, failed={looping: "invalid_response"}
    )
    assert (scopes[looping]["pages"], scopes[looping]["attempts"]) == (2, 2)
    # The two pages read before the loop was noticed were applied: those profiles were seen.
    listed = [str(p["connectorProfileArn"]) for p in org.items(PROFILES, *looping)[: 2 * PAGE]]
    assert scopes[looping]["profiles"] == len(listed)
    rows = profile_rows(database_url)
    for arn, row in rows.items():
        if (row["account_id"], row["region"]) == looping:
            moved = row["last_seen_at"] != baseline[arn]["last_seen_at"]
            assert moved == (arn in listed), arn


def test_invalid_next_token_is_a_validation_error(
    sqlite_url: str,
    baseline_db: Baselines,
    org: Organization,
    faults: Faults,
    sim: Simulator,
    cli: Cli,
) -> None:
    """A nextToken rejected every time restarts the listing once from its first page, then
    fails the scope as `validation_error`, without retrying either rejection."""
    baseline = clean_start(sqlite_url, baseline_db, sim)
    rejected = faulty_scope(org)
    removed = remove_first_profiles(org, [rejected])
    faults.invalid_token_after_pages[rejected] = 1
    result = cli.collect(sqlite_url, sim, REGIONS, "--max-attempts", "5")
    assert result.code == 1
    scopes = assert_inventory(
        sqlite_url, org, baseline, removed, failed={rejected: "validation_error"}
    )
    row = scopes[rejected]
    # Page 1, a rejected page 2, then page 1 again and page 2 rejected again.
    assert (row["pages"], row["attempts"], row["profiles"]) == (2, 4, PAGE)
    assert row["aws_error_code"] == "ValidationException"


def test_a_next_token_rejected_once_restarts_the_listing_and_keeps_no_duplicate(
    sqlite_url: str,
    baseline_db: Baselines,
    org: Organization,
    faults: Faults,
    sim: Simulator,
    cli: Cli,
) -> None:
    """A nextToken rejected mid-listing (it expired) restarts the scope's listing from the
    first page: the listing is complete, every profile stored once, and deletions happen."""
    baseline = clean_start(sqlite_url, baseline_db, sim)
    expired = faulty_scope(org)
    removed = remove_first_profiles(org, all_scopes(org))
    faults.expiring_token_scopes[expired] = 1
    result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 0, result.err
    assert "listing again from the first page" in result.err
    scopes = assert_inventory(sqlite_url, org, baseline, removed, failed={})
    row = scopes[expired]
    pages = math.ceil(len(truth(org, expired)) / PAGE)
    assert (row["pages"], row["profiles"], row["complete"]) == (
        1 + pages,
        len(truth(org, expired)),
        True,
    )
    assert_history_consistent(sqlite_url)


def test_endless_throttling_uses_every_attempt(
    sqlite_url: str,
    baseline_db: Baselines,
    org: Organization,
    faults: Faults,
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A scope that is always throttled fails as `throttled` after exactly --max-attempts calls
    (backing off on an injected clock: throttling backs off from a one-second base)."""
    baseline = clean_start(sqlite_url, baseline_db, sim)
    throttled = faulty_scope(org)
    removed = remove_first_profiles(org, [throttled])
    faults.failing_scopes[throttled] = "ThrottlingException"
    result, _ = collect_waiting_on_a_clock(sqlite_url, sim, monkeypatch, 3)
    assert result.status is RunStatus.PARTIAL, result.error
    scopes = assert_inventory(sqlite_url, org, baseline, removed, failed={throttled: "throttled"})
    assert scopes[throttled]["attempts"] == 3
    assert scopes[throttled]["aws_error_code"] == "ThrottlingException"
    # Every listing of the scope is throttled, each for its own --max-attempts calls.
    assert sim.stats.scope_count(throttled, "DescribeConnectorProfiles") == 3
    assert sim.stats.scope_count(throttled, "ListFlows") == 3
    assert sim.stats.scope_count(throttled, "ListConnectors") == 3
    assert sim.stats.scopes[throttled] == 9
    assert last_run(sqlite_url)["status"] == "partial"


def test_denied_assume_role_fails_every_region_of_the_account(
    database_url: str,
    baseline_db: Baselines,
    org: Organization,
    faults: Faults,
    sim: Simulator,
    cli: Cli,
) -> None:
    """An account whose role cannot be assumed fails in each region as `assume_role_failed`."""
    baseline = clean_start(database_url, baseline_db, sim)
    denied = org.account_list()[2].id
    removed = remove_first_profiles(org, [(denied, r) for r in REGIONS])
    faults.deny_assume_role.add(denied)
    result = cli.collect(database_url, sim, REGIONS)
    assert result.code == 1
    failed = {(denied, r): "assume_role_failed" for r in REGIONS}
    scopes = assert_inventory(database_url, org, baseline, removed, failed=failed)
    assert {scopes[key]["aws_error_code"] for key in failed} == {"AccessDenied"}
    # One AssumeRole per account, the refused one included: not one per region.
    assert sim.stats.count("sts", "AssumeRole") == len(org.account_list())
    assert all(sim.stats.scopes[key] == 0 for key in failed)


def test_credentials_expiring_mid_run_are_refreshed(
    sqlite_url: str,
    baseline_db: Baselines,
    org: Organization,
    faults: Faults,
    sim: Simulator,
    cli: Cli,
) -> None:
    """Role credentials that reach botocore's refresh window mid-run are re-assumed; all succeed."""
    baseline = clean_start(sqlite_url, baseline_db, sim)
    removed = remove_first_profiles(org, all_scopes(org))
    # Credentials live 901 s: botocore refreshes 900 s before expiry, so within a second of
    # being issued they are due. One scope per account answers each page 1.1 s late and
    # takes two pages, so every account's second page needs fresh credentials.
    sim.credential_lifetime_cap = 901.0
    faults.slow_seconds = 1.1
    for account in org.account_list():
        slow = (account.id, "us-east-1")
        faults.slow_scopes.add(slow)
        org.short_page_sizes[slow] = math.ceil(len(org.items(PROFILES, *slow)) / 2)
    result = cli.collect(sqlite_url, sim, REGIONS)
    assert result.code == 0, result.err
    assert_inventory(sqlite_url, org, baseline, removed, failed={})
    accounts = len(org.account_list())
    assert sim.stats.count("sts", "AssumeRole") >= 2 * accounts
    assert set(sim.stats.statuses) == {200}
