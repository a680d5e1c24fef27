"""Metrics from a pod: `--pushgateway-url` pushes each run's metrics over real HTTP to a
Pushgateway, one group per shard."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collector.simulator import Organization, Simulator, generate_organization

from ..support import Cli, fetch

REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture
def org() -> Organization:
    return generate_organization(
        seed=8, accounts=10, empty_fraction=0.4, profiles_per_scope=(1, 4), regions=REGIONS
    )


@dataclass
class Pushgateway:
    """A stand-in Pushgateway on 127.0.0.1 that records each request and answers 200."""

    server: ThreadingHTTPServer
    pushes: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, path, body) of each request, in order."""

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def groups(self) -> dict[str, str]:
        """The last body pushed to each path."""
        return {path: body for _, path, body in self.pushes}


@pytest.fixture
def pushgateway() -> Iterator[Pushgateway]:
    recorded: list[tuple[str, str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            recorded.append(("PUT", self.path, self.rfile.read(length).decode()))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Pushgateway(server, recorded)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def samples(body: str) -> dict[str, float]:
    """Sample lines of a text exposition, by name with labels."""
    found = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def shard_path(shard: str) -> str:
    encoded = base64.urlsafe_b64encode(shard.encode()).decode()
    return f"/metrics/job/appflow-inventory/shard@base64/{encoded}"


def test_shards_push_to_their_own_groups(
    sqlite_url: str, sim: Simulator, cli: Cli, pushgateway: Pushgateway
) -> None:
    """Two shards of one pass push with PUT to two groups (job and shard), so neither
    replaces the other's metrics, and each group's values are that shard's run."""
    for index in (0, 1):
        shard = f"{index}/2"
        args = ("--shard", shard, "--pushgateway-url", pushgateway.url)
        assert cli.collect(sqlite_url, sim, REGIONS, *args).code == 0
    assert [method for method, _, _ in pushgateway.pushes] == ["PUT", "PUT"]
    groups = pushgateway.groups()
    assert set(groups) == {shard_path("0/2"), shard_path("1/2")}
    runs = {r["shard"]: r for r in fetch(sqlite_url, "SELECT * FROM collection_runs")}
    for shard, run in runs.items():
        values = samples(groups[shard_path(shard)])
        labels = f'shard="{shard}"'
        assert values[f'appflow_inventory_run_status{{{labels},status="succeeded"}}'] == 1
        assert values[f"appflow_inventory_requests{{{labels}}}"] == run["requests"]
        assert values[f"appflow_inventory_profiles_seen{{{labels}}}"] == run["profiles_seen"]
        assert (
            values[f'appflow_inventory_scopes{{{labels},status="succeeded"}}']
            == (run["scopes_succeeded"])
        )
        assert f"appflow_inventory_last_success_timestamp_seconds{{{labels}}}" in values


def test_a_run_without_shard_pushes_to_the_job_group(
    sqlite_url: str, sim: Simulator, cli: Cli, pushgateway: Pushgateway
) -> None:
    """Without --shard the group is the job alone; COLLECTOR_PUSHGATEWAY_URL works as the
    flag does."""
    env = {**sim.env(), "COLLECTOR_PUSHGATEWAY_URL": pushgateway.url}
    result = cli.run(
        [
            "run",
            "--database-url",
            sqlite_url,
            "--organization",
            "--role-name",
            "AppFlowInventoryReader",
            "--regions",
            ",".join(REGIONS),
        ],
        env,
    )
    assert result.code == 0, result.err
    (path,) = pushgateway.groups()
    assert path == "/metrics/job/appflow-inventory"
    assert (
        samples(pushgateway.groups()[path])['appflow_inventory_run_status{status="succeeded"}'] == 1
    )


def test_an_unreachable_pushgateway_is_one_logged_line(
    sqlite_url: str, sim: Simulator, cli: Cli, pushgateway: Pushgateway
) -> None:
    """A Pushgateway that refuses connections costs one error line; the run's outcome and
    exit code stand."""
    url = pushgateway.url
    pushgateway.server.shutdown()
    pushgateway.server.server_close()
    result = cli.collect(sqlite_url, sim, REGIONS, "--pushgateway-url", url)
    assert result.code == 0
    errors = [line for line in result.err.splitlines() if "cannot push metrics" in line]
    assert len(errors) == 1
    assert url in errors[0]
    assert "Traceback" not in result.err
    assert fetch(sqlite_url, "SELECT status FROM collection_runs") == [{"status": "succeeded"}]
