"""A soak: many runs against a changing organization, each with random (seeded) faults.

The normal suite makes 8 runs; `COLLECTOR_SOAK_RUNS=50` makes the long soak (the separate
target), and `COLLECTOR_SOAK_SEED` replays another random sequence. After every run, each
complete scope must equal the simulator and no incomplete one may have lost a profile (nor,
by its flow listing, a flow); after a last fault-free run the inventory is the simulator's,
profiles, flows and links alike, and every history replays to it.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from collector import RetryPolicy, RunResult, load_settings, run_collection
from collector.simulator import (
    FLOWS,
    PROFILES,
    Faults,
    Organization,
    Profile,
    ScopeKey,
    Simulator,
    generate_organization,
    mutate,
)

from ..support import ROLE, as_json, assert_history_consistent, canonical_hash, fetch

RUNS = int(os.environ.get("COLLECTOR_SOAK_RUNS", "8"))
SEED = int(os.environ.get("COLLECTOR_SOAK_SEED", "2026"))
REGIONS = ("us-east-1", "eu-west-1")
# Short backoff: the soak is about state, not about waiting; attempts are still counted.
RETRY = RetryPolicy(max_attempts=6, base_delay=0.005, max_delay=0.05)


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def as_snapshot(profile: Profile) -> dict[str, Any]:
    """A simulator profile as the inventory's snapshot holds it: timestamps in ISO-8601 UTC."""
    return {
        key: iso_utc(value) if key in ("createdAt", "lastUpdatedAt") else value
        for key, value in profile.items()
    }


def truth(org: Organization) -> dict[str, tuple[ScopeKey, Profile]]:
    return {str(p["connectorProfileArn"]): (key, p) for key, p in org.all_items(PROFILES)}


def live_by_scope(url: str) -> dict[ScopeKey, set[str]]:
    scopes: dict[ScopeKey, set[str]] = {}
    for row in fetch(
        url,
        "SELECT connector_profile_arn, account_id, region FROM connector_profiles "
        "WHERE deleted_at IS NULL",
    ):
        scopes.setdefault((row["account_id"], row["region"]), set()).add(
            row["connector_profile_arn"]
        )
    return scopes


def live_flows_by_scope(url: str) -> dict[ScopeKey, set[str]]:
    scopes: dict[ScopeKey, set[str]] = {}
    for row in fetch(
        url, "SELECT flow_arn, account_id, region FROM flows WHERE deleted_at IS NULL"
    ):
        scopes.setdefault((row["account_id"], row["region"]), set()).add(row["flow_arn"])
    return scopes


def flow_links(org: Organization) -> set[tuple[str, str, str | None]]:
    """(flow ARN, profile name, the live profile's ARN or None) of every flow's ends."""
    links: set[tuple[str, str, str | None]] = set()
    for (account, region), flow in org.all_items(FLOWS):
        live = {
            p["connectorProfileName"]: p["connectorProfileArn"]
            for p in org.items(PROFILES, account, region)
        }
        for end in (flow["sourceFlowConfig"], *flow["destinationFlowConfigList"]):
            name = end.get("connectorProfileName")
            if name is not None:
                links.add((flow["flowArn"], name, live.get(name)))
    return links


@dataclass
class Weather:
    """The faults and the filter of one run, drawn from the soak's random source."""

    flags: dict[str, Any]
    description: str


def draw_weather(rng: random.Random, faults: Faults, org: Organization) -> Weather:
    """Reset the simulator's faults and draw new ones; sometimes a targeted refresh."""
    scopes = [(a.id, r) for a in org.account_list() for r in REGIONS]
    faults.error_rate_429 = rng.choice((0.0, 0.05, 0.2))
    faults.error_rate_500 = rng.choice((0.0, 0.05, 0.2))
    faults.drop_rate = rng.choice((0.0, 0.0, 0.05))
    faults.malformed_json_rate = rng.choice((0.0, 0.0, 0.05))
    faults.failing_scopes = {
        rng.choice(scopes): rng.choice(
            ("ThrottlingException", "InternalServerException", "AccessDeniedException")
        )
        for _ in range(rng.choice((0, 1, 2)))
    }
    members = [a.id for a in org.account_list()[1:]]
    faults.deny_assume_role = {rng.choice(members)} if rng.random() < 0.25 else set()
    faults.repeat_token_scopes = {rng.choice(scopes): 1} if rng.random() < 0.25 else {}
    faults.invalid_token_after_pages = {rng.choice(scopes): 1} if rng.random() < 0.25 else {}
    flows = sorted(str(f["flowArn"]) for _, f in org.all_items(FLOWS))
    faults.vanishing = {rng.choice(flows)} if flows and rng.random() < 0.25 else set()
    flags: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.15:
        flags["connector_type"] = "Salesforce"
    elif roll < 0.25:
        names = sorted({str(p["connectorProfileName"]) for _, p in org.all_items(PROFILES)})
        flags["profile_name"] = tuple(rng.sample(names, min(3, len(names))))
    return Weather(flags, f"{faults!r} {flags}")


def calm(faults: Faults) -> None:
    faults.error_rate_429 = faults.error_rate_500 = 0.0
    faults.drop_rate = faults.malformed_json_rate = 0.0
    faults.failing_scopes = {}
    faults.deny_assume_role = set()
    faults.repeat_token_scopes = {}
    faults.invalid_token_after_pages = {}
    faults.vanishing = set()


def collect(url: str, **flags: Any) -> RunResult:
    settings = load_settings(
        {
            "database_url": url,
            "organization": True,
            "role_name": ROLE,
            "regions": ",".join(REGIONS),
            "concurrency": 8,
            **flags,
        },
        environ={},
    )
    return anyio.run(lambda: run_collection(settings, retry=RETRY))


def change(rng: random.Random, org: Organization, removed: list[tuple[ScopeKey, Profile]]) -> None:
    """Random creates, updates and deletes, and now and then a deleted profile restored."""
    before = truth(org)
    summary = mutate(
        org,
        rng,
        creates=rng.randint(0, 3),
        updates=rng.randint(0, 4),
        deletes=rng.randint(0, 3),
        now=1_790_000_000 + rng.random() * 1_000_000,
        flow_creates=rng.randint(0, 2),
        flow_updates=rng.randint(0, 2),
        flow_deletes=rng.randint(0, 2),
        flow_runs=rng.randint(0, 3),
    )
    removed.extend(before[arn] for arn in summary.deleted)
    if removed and rng.random() < 0.5:
        (account, region), profile = removed.pop(rng.randrange(len(removed)))
        org.put(PROFILES, account, region, profile)


def assert_run_kept_its_promises(
    url: str,
    org: Organization,
    result: RunResult,
    before: dict[ScopeKey, set[str]],
    flows_before: dict[ScopeKey, set[str]],
) -> None:
    """A complete scope now equals the simulator; an incomplete one lost nothing. The same
    for each scope's flows, by the completeness of its flow listing."""
    scopes = fetch(
        url,
        "SELECT account_id, region, status, complete, error_code FROM collection_scopes "
        "WHERE run_id = :run_id",
        run_id=result.run_id,
    )
    assert len(scopes) == len(org.account_list()) * len(REGIONS)
    failed = [s for s in scopes if s["status"] == "failed"]
    assert all(s["error_code"] for s in failed)
    assert result.exit_code == (1 if failed else 0)
    now_live = live_by_scope(url)
    for s in scopes:
        key = (s["account_id"], s["region"])
        live = now_live.get(key, set())
        if s["complete"]:
            assert live == {str(p["connectorProfileArn"]) for p in org.items(PROFILES, *key)}, key
        else:
            assert live >= before.get(key, set()), key
    listings = fetch(
        url,
        "SELECT account_id, region, complete FROM collection_scope_resources "
        "WHERE run_id = :run_id AND resource = 'flows'",
        run_id=result.run_id,
    )
    flows_live = live_flows_by_scope(url)
    for listing in listings:
        key = (listing["account_id"], listing["region"])
        live = flows_live.get(key, set())
        if listing["complete"]:
            assert live == {str(f["flowArn"]) for f in org.items(FLOWS, *key)}, key
        else:
            assert live >= flows_before.get(key, set()), key
    assert_history_consistent(url)


def replay(chain: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The profile a version chain ends at (None if deleted), replayed in order."""
    state: dict[str, Any] | None = None
    for v in chain:
        kind, snapshot = v["change_type"], as_json(v["snapshot"])
        if kind == "created":
            assert state is None
            state = snapshot
        elif kind in ("updated", "restored"):
            assert (state is None) == (kind == "restored")
            state = snapshot
        else:
            assert kind == "deleted"
            assert state is not None
            state = None
    return state


@pytest.fixture
def org() -> Organization:
    return generate_organization(
        seed=SEED,
        accounts=5,
        empty_fraction=0.3,
        profiles_per_scope=(1, 15),
        regions=REGIONS,
        short_page_fraction=0.3,
    )


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=SEED)


@pytest.fixture
def sim(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    """The simulator, named by the environment: the soak calls `run_collection` directly."""
    for key, value in sim.env().items():
        monkeypatch.setenv(key, value)
    return sim


@pytest.mark.slow
def test_soak_ends_equal_to_the_simulator(
    inventory_url: str, org: Organization, sim: Simulator
) -> None:
    """Runs with random faults and changes in between end, after a calm run, equal to AWS."""
    rng = random.Random(SEED)
    removed: list[tuple[ScopeKey, Profile]] = []
    outcomes: list[str] = []
    assert collect(inventory_url).exit_code == 0  # the inventory starts from a calm run
    for _ in range(RUNS):
        change(rng, org, removed)
        weather = draw_weather(rng, sim.faults, org)
        before = live_by_scope(inventory_url)
        flows_before = live_flows_by_scope(inventory_url)
        result = collect(inventory_url, **weather.flags)
        outcomes.append(result.status)
        assert_run_kept_its_promises(inventory_url, org, result, before, flows_before)
    # The weather must actually have failed some scopes, or the soak proved little.
    assert {"partial", "failed"} & set(outcomes)

    change(rng, org, removed)
    calm(sim.faults)
    final = collect(inventory_url)
    assert final.exit_code == 0, final.failures

    expected = truth(org)
    chains = assert_history_consistent(inventory_url)
    rows = {
        r["connector_profile_arn"]: r
        for r in fetch(
            inventory_url,
            "SELECT connector_profile_arn, content_hash, deleted_at FROM connector_profiles",
        )
    }
    assert {arn for arn, r in rows.items() if r["deleted_at"] is None} == set(expected)
    for arn, chain in chains.items():
        state = replay(chain)
        assert (state is None) == (rows[arn]["deleted_at"] is not None), arn
        if state is not None:
            assert canonical_hash(state) == rows[arn]["content_hash"], arn
            assert state == as_snapshot(expected[arn][1]), arn
    kinds = {v["change_type"] for chain in chains.values() for v in chain}
    assert {"created", "updated", "deleted"} <= kinds
    flows = {str(f["flowArn"]) for _, f in org.all_items(FLOWS)}
    stored = fetch(inventory_url, "SELECT flow_arn FROM flows WHERE deleted_at IS NULL")
    assert {r["flow_arn"] for r in stored} == flows
    links = fetch(
        inventory_url,
        "SELECT flow_arn, connector_profile_name, connector_profile_arn "
        "FROM flow_connector_profiles "
        "WHERE flow_arn IN (SELECT flow_arn FROM flows WHERE deleted_at IS NULL)",
    )
    assert {tuple(r.values()) for r in links} == flow_links(org)
