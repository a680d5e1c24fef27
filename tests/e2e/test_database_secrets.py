"""Database secrets: the URL from a file or the environment, PG* variables, refused leaks.

The password-protected server is the run's own (`scripts/with-postgres`): `scram-sha-256`
on 127.0.0.1 for the roles of `password_users`, such as the one this module makes, so a
wrong or missing password is refused as in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..docs import all_blocks
from ..support import Cli, fetch, postgres_password_role, postgres_port

PASSWORD = "s3cret-Pa55"
URL_WITH_PASSWORD = re.compile(r"\w+://[^\s:/@]+:[^\s/@]+@")


@dataclass(frozen=True)
class Server:
    """The run's server, and this module's password-protected role, owner of a database of
    its own name."""

    port: int
    role: str


@pytest.fixture(scope="module")
def cluster() -> Iterator[Server]:
    """A role the server asks for its password over TCP."""
    for role in postgres_password_role(PASSWORD):
        yield Server(postgres_port(), role)


def _url(cluster: Server, password: str | None = None) -> str:
    user = cluster.role if password is None else f"{cluster.role}:{password}"
    return f"postgresql://{user}@127.0.0.1:{cluster.port}/{cluster.role}"


def _private_file(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def _assert_one_line(err: str) -> None:
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_url_from_a_file(cluster: Server, tmp_path: Path, cli: Cli) -> None:
    """`--database-url-file`, `COLLECTOR_DATABASE_URL_FILE` and the TOML key read the URL
    (trailing newline and all) from a file, as a mounted Kubernetes Secret holds it."""
    secret = _private_file(tmp_path / "url", _url(cluster, PASSWORD) + "\n")
    by_flag = cli.run(["db", "upgrade", "--database-url-file", str(secret)])
    assert by_flag.code == 0, by_flag.err
    assert PASSWORD not in by_flag.out + by_flag.err
    by_env = cli.run(["show"], {"COLLECTOR_DATABASE_URL_FILE": str(secret)})
    assert by_env.code == 0, by_env.err
    config = _private_file(tmp_path / "collector.toml", f'database_url_file = "{secret}"\n')
    by_file = cli.run(["db", "upgrade", "--config", str(config)])
    assert by_file.code == 0, by_file.err
    assert fetch(_url(cluster, PASSWORD), "SELECT count(*) AS n FROM collection_runs") == [{"n": 0}]


def test_url_file_and_url_are_one_setting(tmp_path: Path, cli: Cli) -> None:
    """A flag beats the environment whichever of the two forms each uses; one source giving
    both is an error."""
    flag_file = _private_file(tmp_path / "url", f"sqlite:///{tmp_path / 'by-flag.db'}\n")
    env = {"COLLECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'by-env.db'}"}
    result = cli.run(["db", "upgrade", "--database-url-file", str(flag_file)], env)
    assert result.code == 0, result.err
    assert (tmp_path / "by-flag.db").exists()
    assert not (tmp_path / "by-env.db").exists()
    both = cli.run(
        ["db", "upgrade", "--database-url-file", str(flag_file), "--database-url", "sqlite:///x"]
    )
    assert both.code == 2
    _assert_one_line(both.err)
    assert "--database-url and --database-url-file cannot be used together" in both.err
    missing = cli.run(["db", "upgrade", "--database-url-file", str(tmp_path / "nope")])
    assert missing.code == 2
    assert "does not exist" in missing.err


def test_pgpassword_and_pgpassfile(cluster: Server, tmp_path: Path, cli: Cli) -> None:
    """Without a password in the URL, asyncpg takes it from PGPASSWORD or a 0600 PGPASSFILE."""
    url = _url(cluster)
    refused = cli.run_process(
        ["db", "upgrade", "--database-url", url], {"PGPASSFILE": "/nonexistent"}
    )
    assert refused.code == 3
    _assert_one_line(refused.err)
    by_variable = cli.run(["db", "upgrade", "--database-url", url], {"PGPASSWORD": PASSWORD})
    assert by_variable.code == 0, by_variable.err
    passfile = _private_file(
        tmp_path / "pgpass", f"127.0.0.1:{cluster.port}:{cluster.role}:{cluster.role}:{PASSWORD}\n"
    )
    by_file = cli.run(["show", "--database-url", url], {"PGPASSFILE": str(passfile)})
    assert by_file.code == 0, by_file.err
    assert PASSWORD not in by_variable.out + by_variable.err + by_file.out + by_file.err


def test_wrong_password_is_not_shown(cluster: Server, tmp_path: Path, cli: Cli) -> None:
    """A refused password exits 3 with one line that does not hold it."""
    secret = _private_file(tmp_path / "url", _url(cluster, "wrong-Pa55"))
    result = cli.run_process(["-v", "db", "upgrade", "--database-url-file", str(secret)])
    assert result.code == 3
    assert "wrong-Pa55" not in result.out + result.err
    assert "password authentication failed" in result.err


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o666])
def test_config_with_password_readable_by_others_is_refused(
    mode: int, tmp_path: Path, cli: Cli
) -> None:
    """A TOML file holding a database password must be mode 600: otherwise exit 2, one line
    naming `chmod 600`, and the password is not printed."""
    config = tmp_path / "collector.toml"
    config.write_text(f'database_url = "postgresql://inventory:{PASSWORD}@127.0.0.1:1/inventory"\n')
    config.chmod(mode)
    result = cli.run(["db", "upgrade", "--config", str(config)])
    assert result.code == 2
    _assert_one_line(result.err)
    assert f"chmod 600 {config}" in result.err
    assert PASSWORD not in result.err
    config.chmod(0o600)
    accepted = cli.run(["db", "upgrade", "--config", str(config)])
    assert accepted.code == 3  # accepted; the database on port 1 is unreachable
    assert PASSWORD not in accepted.err


def test_config_without_password_may_be_readable(tmp_path: Path, cli: Cli) -> None:
    """A TOML file without a password (it names a URL file, or PGPASSWORD is used) may be 644."""
    config = tmp_path / "collector.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "inventory.db"}"\n')
    config.chmod(0o644)
    assert cli.run(["db", "upgrade", "--config", str(config)]).code == 0


@pytest.mark.parametrize("where", ["flag", "file"])
def test_unencoded_at_in_password_is_refused(where: str, tmp_path: Path, cli: Cli) -> None:
    """A password with a raw `@` would send its tail to DNS: exit 2 with a hint to write
    %40, and no part of the password in the message."""
    url = "postgresql://inventory:pa55@xyzzy@127.0.0.1:5432/inventory"
    if where == "flag":
        result = cli.run(["db", "upgrade", "--database-url", url])
    else:
        result = cli.run(
            ["db", "upgrade", "--database-url-file", str(_private_file(tmp_path / "url", url))]
        )
    assert result.code == 2
    _assert_one_line(result.err)
    assert "%40" in result.err
    assert "pa55" not in result.err
    assert "xyzzy" not in result.err
    encoded = "postgresql://inventory:pa55%40xyzzy@127.0.0.1:1/inventory"
    assert cli.run(["db", "upgrade", "--database-url", encoded]).code == 3


def test_documented_examples_keep_passwords_out_of_argv() -> None:
    """No example in the README or the docs/ pages (their code blocks) puts a password in a
    database URL."""
    blocks = all_blocks()
    assert {block.page for block in blocks} >= {"README.md", "organization.md", "security.md"}
    assert any("collector run" in block.text for block in blocks if block.page == "README.md")
    for block in blocks:
        assert not URL_WITH_PASSWORD.search(block.text), (block.page, block.text)
