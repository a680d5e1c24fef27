"""Cron-grade operation, end to end with real processes: locks, signals, deadlines, metrics,
JSON logs and shards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from collector.simulator import (
    PROFILES,
    Burst,
    Faults,
    Organization,
    Simulator,
    generate_organization,
)

from ..support import Cli, collector_command, fetch, profile_arns, run_args, wait_for

REGIONS = ("us-east-1", "eu-west-1", "eu-west-2", "ap-south-1")


@pytest.fixture
def org() -> Organization:
    return generate_organization(
        seed=21, accounts=30, empty_fraction=0.5, profiles_per_scope=(1, 10), regions=REGIONS
    )


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=2)


def start(url: str, sim: Simulator, *extra: str) -> subprocess.Popen[str]:
    """`python -m collector run` as its own process, as cron would start it."""
    return subprocess.Popen(
        collector_command(*run_args(url, REGIONS, *extra)),
        env={**os.environ, **sim.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_to_the_end(url: str, sim: Simulator, timeout: float) -> subprocess.CompletedProcess[str]:
    """`python -m collector run` as its own process, waited for."""
    return subprocess.run(
        collector_command(*run_args(url, REGIONS)),
        env={**os.environ, **sim.env()},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def scopes_written(url: str) -> int:
    try:
        return int(fetch(url, "SELECT count(*) AS n FROM collection_scopes")[0]["n"])
    except Exception:
        return 0  # the schema is not there yet


def live(url: str) -> set[str]:
    rows = fetch(
        url, "SELECT connector_profile_arn FROM connector_profiles WHERE deleted_at IS NULL"
    )
    return {r["connector_profile_arn"] for r in rows}


@pytest.mark.slow
def test_second_run_is_refused_while_the_first_holds_the_lock(
    inventory_url: str, sim: Simulator
) -> None:
    """A second run exits 3 at once while another holds the lock; the first finishes fine."""
    sim.faults.latency = 0.05
    with start(inventory_url, sim, "--concurrency", "2") as first:
        try:
            wait_for(lambda: scopes_written(inventory_url) > 0, "a first scope")
            began = time.monotonic()
            second = run_to_the_end(inventory_url, sim, timeout=60)
            assert second.returncode == 3
            assert "another collector run holds the lock" in second.stderr
            assert len(second.stderr.strip().splitlines()) == 1
            assert time.monotonic() - began < 30
            sim.faults.latency = 0.0
            assert first.wait(timeout=120) == 0
        finally:
            first.kill()
            first.wait()


@pytest.mark.slow
def test_a_killed_run_does_not_block_the_next(inventory_url: str, sim: Simulator) -> None:
    """After SIGKILL the lock is gone: the next run succeeds and marks the dead run."""
    sim.faults.latency = 0.05
    with start(inventory_url, sim, "--concurrency", "2") as victim:
        wait_for(lambda: scopes_written(inventory_url) > 0, "a first scope")
        victim.kill()
        victim.wait(timeout=30)
    sim.faults.latency = 0.0
    code = run_to_the_end(inventory_url, sim, timeout=120).returncode
    assert code == 0
    statuses = [
        r["status"]
        for r in fetch(inventory_url, "SELECT status FROM collection_runs ORDER BY started_at")
    ]
    assert statuses == ["interrupted", "succeeded"]


def test_sigterm_interrupts_cleanly(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """SIGTERM ends a run within seconds, exit 4, recorded interrupted, no scope half-done."""
    assert cli.collect(inventory_url, sim, REGIONS).code == 0
    for (account, region), profile in org.all_items(PROFILES):
        org.delete(PROFILES, account, region, str(profile["connectorProfileName"]))
    sim.faults.latency = 0.05
    before = scopes_written(inventory_url)
    with start(inventory_url, sim, "--concurrency", "2") as process:
        try:
            wait_for(lambda: scopes_written(inventory_url) > before + 3, "four more scopes")
            process.send_signal(signal.SIGTERM)
            began = time.monotonic()
            assert process.wait(timeout=30) == 4
            assert time.monotonic() - began < 10
        finally:
            process.kill()
            process.wait()
    run = fetch(
        inventory_url,
        "SELECT run_id, status, error_message FROM collection_runs ORDER BY started_at",
    )[-1]
    assert run["status"] == "interrupted"
    assert "signal" in run["error_message"]
    listed = {
        (r["account_id"], r["region"])
        for r in fetch(
            inventory_url,
            "SELECT account_id, region FROM collection_scopes WHERE run_id = :r "
            "AND status = 'succeeded'",
            r=run["run_id"],
        )
    }
    assert 0 < len(listed) < before
    deleted = fetch(
        inventory_url,
        "SELECT account_id, region FROM connector_profiles WHERE deleted_at IS NOT NULL",
    )
    # Deletions come only from scopes this run listed to the end.
    assert deleted
    assert {(d["account_id"], d["region"]) for d in deleted} <= listed


def test_deadline_bounds_the_run(sqlite_url: str, sim: Simulator, cli: Cli) -> None:
    """--deadline stops a slow run: exit 4, recorded interrupted with the reason."""
    sim.faults.latency = 0.2
    began = time.monotonic()
    result = cli.collect(sqlite_url, sim, REGIONS, "--deadline", "1", "--concurrency", "2")
    assert result.code == 4
    assert time.monotonic() - began < 15
    run = fetch(sqlite_url, "SELECT status, error_message FROM collection_runs")
    assert run == [{"status": "interrupted", "error_message": "deadline of 1s reached"}]


def test_deadline_counts_from_the_start_of_the_run(
    sqlite_url: str, sim: Simulator, cli: Cli
) -> None:
    """The checks before listing spend the deadline too: when STS alone outlasts it (one
    throttled GetCallerIdentity asking for a 2-second wait), the run is recorded
    interrupted without a single AppFlow or Organizations call."""
    sim.faults.bursts["sts:GetCallerIdentity"] = Burst("throttle", requests=1, retry_after=2.0)
    result = cli.collect(sqlite_url, sim, REGIONS, "--deadline", "1")
    assert result.code == 4, result.err
    assert sim.stats.count("sts", "GetCallerIdentity") == 2
    assert sim.stats.count("appflow") == 0
    assert sim.stats.count("organizations") == 0
    run = fetch(sqlite_url, "SELECT status, error_message, scopes_total FROM collection_runs")
    assert run == [
        {"status": "interrupted", "error_message": "deadline of 1s reached", "scopes_total": 0}
    ]


def test_metrics_file_parses_back(
    inventory_url: str, org: Organization, sim: Simulator, tmp_path: Path, cli: Cli
) -> None:
    """--metrics-file writes Prometheus text whose values match the recorded run."""
    metrics = tmp_path / "textfile" / "appflow_inventory.prom"
    assert cli.collect(inventory_url, sim, REGIONS, "--metrics-file", str(metrics)).code == 0
    samples: dict[str, float] = {}
    for line in metrics.read_text().splitlines():
        if line.startswith("#"):
            assert line.split()[1] in ("HELP", "TYPE")
            continue
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    run = fetch(inventory_url, "SELECT * FROM collection_runs")[0]
    assert samples['appflow_inventory_run_status{status="succeeded"}'] == 1
    assert samples['appflow_inventory_scopes{status="succeeded"}'] == run["scopes_succeeded"]
    assert samples["appflow_inventory_profiles_seen"] == len(profile_arns(org))
    assert samples['appflow_inventory_changes{type="created"}'] == len(profile_arns(org))
    assert samples["appflow_inventory_requests"] == run["requests"]
    assert samples["appflow_inventory_last_success_timestamp_seconds"] > time.time() - 300
    assert samples["appflow_inventory_run_duration_seconds"] > 0


def test_json_logs_carry_scope_events_and_no_secrets(
    tmp_path: Path, sim: Simulator, cli: Cli
) -> None:
    """--log-format json: every line is JSON, scope events name run, account, region, attempts."""
    sim.faults.error_rate_500 = 0.1
    url = f"sqlite:///{tmp_path / 'logs.db'}"
    result = cli.collect(url, sim, REGIONS, "--log-format", "json", "--max-attempts", "10")
    assert result.code == 0
    events = [json.loads(line) for line in result.err.splitlines()]
    scope_events = [e for e in events if e["event"] == "scope_succeeded"]
    assert len(scope_events) == 30 * len(REGIONS)
    for event in scope_events:
        assert {"run_id", "account", "region", "duration", "attempts", "time"} <= event.keys()
    assert any(e["attempts"] > e["pages"] for e in scope_events)
    assert sim.env()["AWS_SECRET_ACCESS_KEY"] not in result.err


def test_shards_split_accounts_and_never_delete_across(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Two shards under one label cover everything once; a shard never deletes another's."""
    for index in (0, 1):
        args = ("--shard", f"{index}/2", "--run-label", "nightly-1")
        assert cli.collect(inventory_url, sim, REGIONS, *args).code == 0
    assert live(inventory_url) == profile_arns(org)
    scopes = fetch(
        inventory_url,
        "SELECT account_id, region, count(*) AS n "
        "FROM collection_scopes GROUP BY account_id, region",
    )
    assert len(scopes) == len(org.account_list()) * len(REGIONS)
    assert {s["n"] for s in scopes} == {1}
    runs = fetch(inventory_url, "SELECT shard, run_label FROM collection_runs ORDER BY shard")
    assert runs == [
        {"shard": "0/2", "run_label": "nightly-1"},
        {"shard": "1/2", "run_label": "nightly-1"},
    ]
    shard0 = {
        r["account_id"]
        for r in fetch(
            inventory_url,
            "SELECT DISTINCT s.account_id FROM collection_scopes s "
            "JOIN collection_runs r USING (run_id) WHERE r.shard = '0/2'",
        )
    }
    for (account, region), profile in org.all_items(PROFILES):
        if account not in shard0:
            org.delete(PROFILES, account, region, str(profile["connectorProfileName"]))
    args = ("--shard", "0/2", "--run-label", "nightly-2")
    assert cli.collect(inventory_url, sim, REGIONS, *args).code == 0
    deleted = fetch(
        inventory_url, "SELECT count(*) AS n FROM connector_profiles WHERE deleted_at IS NOT NULL"
    )
    assert deleted == [{"n": 0}]
