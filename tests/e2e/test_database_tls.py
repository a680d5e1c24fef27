"""TLS to PostgreSQL: libpq's `sslmode`, `sslrootcert`, `sslcert` and `sslkey` in the URL.

The server is the run's own (`scripts/with-postgres`), with a certificate for 127.0.0.1
signed by a CA made there. The role `tls_only` may log in over TLS only (no `host` line for
it in pg_hba.conf, so `sslmode=disable` is refused); the role `certuser` logs in with a
client certificate, which this module signs with that CA.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from ..support import Cli, postgres_ca, postgres_database, postgres_port


@dataclass(frozen=True)
class Pki:
    ca: Path
    other_ca: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return cert, key


def _signed(
    directory: Path, name: str, ca: tuple[Path, Path], extensions: str
) -> tuple[Path, Path]:
    cert, key, request = (directory / f"{name}.{ext}" for ext in ("crt", "key", "csr"))
    ext_file = directory / f"{name}.ext"
    ext_file.write_text(extensions)
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(request), "-subj", f"/CN={name}",
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", str(request), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext_file),
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    shared = postgres_ca()
    ca = (shared / "ca.crt", shared / "ca.key")
    other_ca = _ca(directory, "someone-else-ca")
    client = _signed(
        directory, "certuser", ca, "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
    )
    return Pki(ca[0], other_ca[0], *client)


@dataclass(frozen=True)
class Server:
    """The run's server, and this module's databases on it."""

    port: int
    inventory: str
    """A database owned by `tls_only`."""
    certs: str
    """A database owned by `certuser`."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Server]:
    inventory = postgres_database("OWNER tls_only")
    certs = postgres_database("OWNER certuser")
    try:
        names = (sa.make_url(next(url)).database for url in (inventory, certs))
        yield Server(postgres_port(), *(str(name) for name in names))
    finally:
        next(inventory, None)
        next(certs, None)


def _upgrade(cli: Cli, url: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = cli.run(["db", "upgrade", "--database-url", url], env)
    return result.code, result.err


def _url(cluster: Server, query: str, host: str = "127.0.0.1") -> str:
    return f"postgresql://tls_only@{host}:{cluster.port}/{cluster.inventory}?{query}"


def _assert_refused(code: int, err: str, reason: str) -> None:
    assert code == 3, err
    assert len(err.strip().splitlines()) == 1, err
    assert "internal error" not in err
    assert reason in err


def test_verify_full_refuses_an_unknown_ca(cluster: Server, pki: Pki, cli: Cli) -> None:
    """`sslmode=verify-full` with a root certificate that did not sign the server's: exit 3."""
    code, err = _upgrade(cli, _url(cluster, f"sslmode=verify-full&sslrootcert={pki.other_ca}"))
    _assert_refused(code, err, "certificate verify failed")


def test_verify_full_accepts_the_right_ca(cluster: Server, pki: Pki, cli: Cli) -> None:
    """`sslmode=verify-full` with the CA that signed the server's certificate connects."""
    code, err = _upgrade(cli, _url(cluster, f"sslmode=verify-full&sslrootcert={pki.ca}"))
    assert code == 0, err


def test_verify_full_checks_the_host_name(cluster: Server, pki: Pki, cli: Cli) -> None:
    """The certificate names 127.0.0.1, not localhost: verify-full refuses, verify-ca does not."""
    full = _url(cluster, f"sslmode=verify-full&sslrootcert={pki.ca}", host="localhost")
    code, err = _upgrade(cli, full)
    _assert_refused(code, err, "certificate verify failed")
    ca_only = _url(cluster, f"sslmode=verify-ca&sslrootcert={pki.ca}", host="localhost")
    assert _upgrade(cli, ca_only)[0] == 0


def test_verify_full_without_a_root_certificate(
    cluster: Server, pki: Pki, tmp_path: Path, cli: Cli
) -> None:
    """Without `sslrootcert`, libpq's defaults: PGSSLROOTCERT, else ~/.postgresql/root.crt;
    with neither, exit 3 with one line (not an internal error)."""
    url = _url(cluster, "sslmode=verify-full")
    home = {"HOME": str(tmp_path)}
    _assert_refused(*_upgrade(cli, url, home), "root certificate")
    assert _upgrade(cli, url, {**home, "PGSSLROOTCERT": str(pki.ca)})[0] == 0


def test_require_encrypts_without_verifying(cluster: Server, cli: Cli) -> None:
    """`sslmode=require` connects over TLS without checking the certificate."""
    code, err = _upgrade(cli, _url(cluster, "sslmode=require"))
    assert code == 0, err


def test_disable_is_refused_by_a_tls_only_server(cluster: Server, cli: Cli) -> None:
    """`sslmode=disable` connects in plain text, which this server refuses."""
    _assert_refused(*_upgrade(cli, _url(cluster, "sslmode=disable")), "no encryption")


def test_client_certificate(cluster: Server, pki: Pki, cli: Cli) -> None:
    """`sslcert` and `sslkey` log in a role that authenticates by certificate."""
    base = f"postgresql://certuser@127.0.0.1:{cluster.port}/{cluster.certs}?sslmode=verify-full"
    with_cert = f"{base}&sslrootcert={pki.ca}&sslcert={pki.client_cert}&sslkey={pki.client_key}"
    code, err = _upgrade(cli, with_cert)
    assert code == 0, err
    refused = cli.run_process(["db", "upgrade", "--database-url", f"{base}&sslrootcert={pki.ca}"])
    code, err = refused.code, refused.err
    _assert_refused(code, err, "certificate")


def test_missing_certificate_file_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    """A certificate file that cannot be read exits 2 naming the parameter and the file."""
    missing = tmp_path / "nope.crt"
    code, err = _upgrade(
        cli, f"postgresql://u@127.0.0.1:1/db?sslmode=verify-full&sslrootcert={missing}"
    )
    assert code == 2, err
    assert f"sslrootcert {missing}" in err
