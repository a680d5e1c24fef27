"""Metrics from a pod: `--pushgateway-url` pushes each run's metrics over real HTTP (or
https, with a bearer token or basic auth read from a file) to a Pushgateway, one group per
shard; a push that fails is a warning, never the run's outcome."""

from __future__ import annotations

import base64
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from collector.simulator import Organization, Simulator, generate_organization

from ..support import Cli, fetch, run_args

REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture
def org() -> Organization:
    return generate_organization(
        seed=8, accounts=10, empty_fraction=0.4, profiles_per_scope=(1, 4), regions=REGIONS
    )


@dataclass
class Pushgateway:
    """A stand-in Pushgateway on 127.0.0.1 that records each request and answers `status`
    (200 unless a test changes it)."""

    server: ThreadingHTTPServer
    scheme: str = "http"
    pushes: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, path, body) of each request, in order."""
    authorizations: list[str | None] = field(default_factory=list)
    """The `Authorization` header of each request."""
    status: int = 200

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}"

    def groups(self) -> dict[str, str]:
        """The last body pushed to each path."""
        return {path: body for _, path, body in self.pushes}


def _serve(context: ssl.SSLContext | None = None) -> Iterator[Pushgateway]:
    gateway: Pushgateway | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            assert gateway is not None
            length = int(self.headers.get("Content-Length", "0"))
            gateway.pushes.append(("PUT", self.path, self.rfile.read(length).decode()))
            gateway.authorizations.append(self.headers.get("Authorization"))
            self.send_response(gateway.status)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    gateway = Pushgateway(server, "https" if context else "http")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def pushgateway() -> Iterator[Pushgateway]:
    yield from _serve()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made with openssl."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "gateway.crt", directory / "gateway.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def https_pushgateway(certificate: tuple[Path, Path]) -> Iterator[Pushgateway]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    yield from _serve(context)


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


def _secret_file(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content + "\n")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("kind", ["token", "basic-auth"])
def test_https_push_authenticates_with_a_credential_from_a_file(
    kind: str,
    sqlite_url: str,
    sim: Simulator,
    cli: Cli,
    https_pushgateway: Pushgateway,
    certificate: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    """Over https, checked against the CA in SSL_CERT_FILE, the push carries a bearer token
    or basic auth read from a file named on the command line; the credential itself never
    appears in the output."""
    secret = "s3cr3t-Ab9/xyz+=" if kind == "token" else "pusher:pa55:word"
    credential = _secret_file(tmp_path, "credential", secret)
    env = {**sim.env(), "SSL_CERT_FILE": str(certificate[0])}
    args = run_args(
        sqlite_url,
        REGIONS,
        "--pushgateway-url",
        https_pushgateway.url,
        f"--pushgateway-{kind}-file",
        str(credential),
    )
    result = cli.run(args, env)
    assert result.code == 0, result.err
    assert [method for method, _, _ in https_pushgateway.pushes] == ["PUT"]
    expected = (
        f"Bearer {secret}"
        if kind == "token"
        else "Basic " + base64.b64encode(secret.encode()).decode()
    )
    assert https_pushgateway.authorizations == [expected]
    assert secret not in result.out + result.err
    (body,) = https_pushgateway.groups().values()
    assert samples(body)['appflow_inventory_run_status{status="succeeded"}'] == 1


def test_an_untrusted_certificate_is_a_warning(
    sqlite_url: str, sim: Simulator, cli: Cli, https_pushgateway: Pushgateway, tmp_path: Path
) -> None:
    """A Pushgateway whose certificate no trusted CA signed gets nothing (the token is not
    sent), and the run ends as it would have: one warning, exit 0."""
    token = _secret_file(tmp_path, "token", "never-sent")
    args = run_args(
        sqlite_url,
        REGIONS,
        "--pushgateway-url",
        https_pushgateway.url,
        "--pushgateway-token-file",
        str(token),
    )
    result = cli.run(args, sim.env())
    assert result.code == 0, result.err
    assert https_pushgateway.pushes == []
    (warning,) = [line for line in result.err.splitlines() if "cannot push metrics" in line]
    assert "WARNING" in warning
    assert "CERTIFICATE_VERIFY_FAILED" in warning


@pytest.mark.parametrize("status", [401, 500])
def test_a_push_refused_by_the_pushgateway_is_a_warning(
    status: int, sqlite_url: str, sim: Simulator, cli: Cli, pushgateway: Pushgateway
) -> None:
    """A Pushgateway that answers an error status costs one warning; exit code 0 stays."""
    pushgateway.status = status
    result = cli.collect(sqlite_url, sim, REGIONS, "--pushgateway-url", pushgateway.url)
    assert result.code == 0, result.err
    (warning,) = [line for line in result.err.splitlines() if "cannot push metrics" in line]
    assert "WARNING" in warning
    assert "Traceback" not in result.err


def test_a_server_that_is_not_http_is_a_warning(sqlite_url: str, sim: Simulator, cli: Cli) -> None:
    """A server that answers something other than HTTP (an error urllib does not raise as
    OSError) costs one warning, not `internal error` and exit 3: Kubernetes would retry
    the whole collection for a metrics push."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        result = cli.collect(sqlite_url, sim, REGIONS, "--pushgateway-url", url)
    finally:
        thread.join(timeout=30)
        listener.close()
    assert result.code == 0, result.err
    assert "internal error" not in result.err
    (warning,) = [line for line in result.err.splitlines() if "cannot push metrics" in line]
    assert "WARNING" in warning


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pushgateway-url", "http://gateway:port"], "port must be a number"),
        (["--pushgateway-url", "http://gateway:9091\x1b[2J"], "printable ASCII"),
        (["--pushgateway-url", "https://gateway:0"], "port must be a number"),
        (["--pushgateway-token-file", "/nonexistent"], "needs --pushgateway-url"),
        (
            ["--pushgateway-url", "http://gateway:9091", "--pushgateway-token-file", "x"],
            "needs an https:// --pushgateway-url",
        ),
        (
            ["--pushgateway-url", "https://gateway", "--pushgateway-token-file", "/nonexistent"],
            "--pushgateway-token-file /nonexistent does not exist",
        ),
    ],
)
def test_pushgateway_settings_are_checked_before_the_run(
    args: list[str], message: str, sqlite_url: str, sim: Simulator, cli: Cli
) -> None:
    """A bad Pushgateway URL or credential file exits 2 with one line before anything is
    collected, rather than failing the push at the end of a run."""
    result = cli.run(run_args(sqlite_url, REGIONS, *args), sim.env())
    assert result.code == 2, result.err
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "\x1b" not in result.err
    assert sim.stats.total == 0


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
