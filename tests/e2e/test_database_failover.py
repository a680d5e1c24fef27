"""A PostgreSQL server that restarts, or stays away, in the middle of a run: the run rides
out what is shorter than `--database-patience`, and ends with exit 3 past it.

These tests start a PostgreSQL server of their own (stopping the shared one would fail the
other tests) and the collector as its own process, so the server can go away under it.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from collector.simulator import Faults, Organization, Simulator, generate_organization

from ..support import (
    PostgresCluster,
    collector_command,
    fetch,
    postgres_cluster,
    run_args,
    wait_for,
)

REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture
def server() -> Iterator[PostgresCluster]:
    with postgres_cluster(["host all all 127.0.0.1/32 trust"]) as cluster:
        cluster.admin("CREATE DATABASE inventory")
        yield cluster


@pytest.fixture
def org() -> Organization:
    return generate_organization(
        seed=41, accounts=6, empty_fraction=0.0, profiles_per_scope=(1, 3), regions=REGIONS
    )


@pytest.fixture
def faults() -> Faults:
    # Slow enough answers that the run is still going when the server goes away.
    return Faults(latency=0.25)


def url_of(server: PostgresCluster) -> str:
    return f"postgresql://collector@127.0.0.1:{server.port}/inventory"


def start(url: str, sim: Simulator, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        collector_command(*run_args(url, REGIONS, "--concurrency", "2", *extra)),
        env={**os.environ, **sim.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def scopes_written(url: str) -> int:
    try:
        return int(fetch(url, "SELECT count(*) AS n FROM collection_scopes")[0]["n"])
    except Exception:
        return 0  # not migrated yet, or the server is away


@pytest.mark.slow
def test_a_restart_in_the_middle_of_a_run_is_ridden_out(
    server: PostgresCluster, org: Organization, sim: Simulator
) -> None:
    """The server restarts while scopes are being written: the run waits for it, takes its
    lock back, and finishes with every scope written exactly once and every profile's
    history a single `created` version."""
    url = url_of(server)
    run = start(url, sim)
    wait_for(lambda: scopes_written(url) >= 2, "the first scopes to be written")
    server.stop()
    time.sleep(1.0)  # the database is away for a moment, as in a failover
    server.start()
    _, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "the database is away" in err
    assert "the database is back" in err
    scopes = fetch(url, "SELECT account_id, region, status FROM collection_scopes")
    assert len(scopes) == len(org.account_list()) * len(REGIONS)
    assert {s["status"] for s in scopes} == {"succeeded"}
    versions = fetch(
        url,
        "SELECT connector_profile_arn, change_type FROM connector_profile_versions "
        "ORDER BY connector_profile_arn, version",
    )
    chains = {
        arn: [v["change_type"] for v in group]
        for arn, group in itertools.groupby(versions, key=lambda v: v["connector_profile_arn"])
    }
    assert chains
    assert set(map(tuple, chains.values())) == {("created",)}
    (row,) = fetch(url, "SELECT status, scopes_total FROM collection_runs")
    assert (row["status"], row["scopes_total"]) == ("succeeded", len(scopes))


@pytest.mark.slow
def test_a_database_away_past_the_patience_ends_the_run_with_exit_3(
    server: PostgresCluster, org: Organization, sim: Simulator
) -> None:
    """Away for longer than `--database-patience`, the run ends with exit 3 and one line;
    the next run, with the server back, closes the abandoned run and collects."""
    url = url_of(server)
    run = start(url, sim, "--database-patience", "3")
    wait_for(lambda: scopes_written(url) >= 1, "the first scope to be written")
    server.stop()
    try:
        _, err = run.communicate(timeout=120)
    finally:
        server.start()
    assert run.returncode == 3, err
    lines = [line for line in err.splitlines() if line.startswith("collector:")]
    assert len(lines) == 1, err
    assert "still away after" in lines[0]
    again = subprocess.run(
        collector_command(*run_args(url, REGIONS)),
        env={**os.environ, **sim.env()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    runs = fetch(url, "SELECT status, error_message FROM collection_runs ORDER BY started_at")
    assert [r["status"] for r in runs] == ["interrupted", "succeeded"]
    assert runs[0]["error_message"] == "the run ended without finishing"
