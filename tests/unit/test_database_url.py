"""Database settings that keep secrets safe: the URL from a file, private config files, an
unencoded `@`, and libpq's TLS parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from collector._config import load_settings, parse_database_url
from collector._errors import ConfigError
from collector._store.dialects.postgresql import tls_argument

PG = "postgresql://inventory@db.internal/inventory"


def _error(flags: dict[str, str], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(flags, environ or {})
    message = str(info.value)
    assert "\n" not in message
    return message


def _private(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_url_file_is_read_and_its_newline_stripped(tmp_path: Path) -> None:
    """The file holds the URL, as a mounted Secret does: trailing newline and all."""
    url_file = _private(tmp_path / "url", PG + "\n")
    settings = load_settings({"database_url_file": str(url_file)}, {})
    assert settings.database_url == PG
    assert settings.database_url_file == str(url_file)


def test_url_file_from_environment_and_config(tmp_path: Path) -> None:
    """`COLLECTOR_DATABASE_URL_FILE` and the TOML key `database_url_file` name it too."""
    url_file = _private(tmp_path / "url", PG)
    by_env = load_settings({}, {"COLLECTOR_DATABASE_URL_FILE": str(url_file)})
    assert by_env.database_url == PG
    config = _private(tmp_path / "c.toml", f'database_url_file = "{url_file}"\n')
    assert load_settings({"config": str(config)}, {}).database_url == PG


def test_stronger_source_wins_whichever_form(tmp_path: Path) -> None:
    """A flag beats the environment, which beats the file, whether each gives the URL or
    its file."""
    url_file = _private(tmp_path / "url", PG)
    config = _private(tmp_path / "c.toml", 'database_url = "sqlite:///from-file.db"\n')
    env = {"COLLECTOR_DATABASE_URL_FILE": str(url_file)}
    assert load_settings({"config": str(config)}, env).database_url == PG
    flags = {"config": str(config), "database_url": "sqlite:///from-flag.db"}
    assert load_settings(flags, env).database_url == "sqlite:///from-flag.db"


def test_one_source_cannot_give_both(tmp_path: Path) -> None:
    """The URL and its file from the same source are refused, naming both."""
    url_file = _private(tmp_path / "url", PG)
    assert "cannot be used together" in _error(
        {"database_url": PG, "database_url_file": str(url_file)}
    )
    assert "are both set" in _error(
        {}, {"COLLECTOR_DATABASE_URL": PG, "COLLECTOR_DATABASE_URL_FILE": str(url_file)}
    )
    config = _private(
        tmp_path / "c.toml", f'database_url = "{PG}"\ndatabase_url_file = "{url_file}"\n'
    )
    assert "are both set" in _error({"config": str(config)})


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), ("", "is empty"), ("\n\n", "is empty"), (f"{PG}\n{PG}", "one line")],
)
def test_bad_url_files(tmp_path: Path, content: str | None, message: str) -> None:
    """A missing, empty or multi-line URL file is one clear line."""
    url_file = tmp_path / "url"
    if content is not None:
        _private(url_file, content)
    assert message in _error({"database_url_file": str(url_file)})


def test_config_with_password_must_be_private(tmp_path: Path) -> None:
    """A config file holding a password (in the URL or its query) is refused unless 0600."""
    for url in ("postgresql://u:s3cret@db/x", "postgresql://u@db/x?password=s3cret"):
        config = tmp_path / "c.toml"
        config.write_text(f'[collector]\ndatabase-url = "{url}"\n')
        config.chmod(0o604)
        message = _error({"config": str(config)})
        assert f"chmod 600 {config}" in message
        assert "s3cret" not in message
        config.chmod(0o600)
        assert load_settings({"config": str(config)}, {}).database_url == url


def test_unencoded_at_in_password_is_refused_without_showing_it() -> None:
    """`user:pa55@word@host` would send `word@host` to DNS: refused with the %40 hint."""
    message = _error({"database_url": "postgresql://u:pa55@xyzzy@db.internal/x"})
    assert "%40" in message
    assert "pa55" not in message
    assert "xyzzy" not in message
    assert parse_database_url("postgresql://u:pa55%40xyzzy@db.internal/x").has_password


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sslmode=verify_full", "sslmode must be one of"),
        ("sslmode=on", "sslmode must be one of"),
        ("sslrootcert=/ca.pem", "needs sslmode=require, verify-ca or verify-full"),
        ("sslmode=prefer&sslcert=/c.pem&sslkey=/k.pem", "needs sslmode=require"),
        ("sslmode=verify-full&sslrootcert=", "sslrootcert is empty"),
    ],
)
def test_bad_tls_parameters(query: str, message: str) -> None:
    """Unknown modes, and certificate files with a mode that would not use them, are refused."""
    assert message in _error({"database_url": f"{PG}?{query}"})


@pytest.mark.parametrize(
    "mode", ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
)
def test_tls_modes_go_to_asyncpg_as_libpq_names(mode: str) -> None:
    """Each libpq mode is accepted, stripped from the URL and handed to asyncpg's `ssl=`."""
    load_settings({"database_url": f"{PG}?sslmode={mode}&application_name=x"}, {})
    url, ssl = tls_argument(sa.make_url(f"{PG}?sslmode={mode}&application_name=x"))
    assert ssl == mode
    assert dict(url.query) == {"application_name": "x"}


def test_no_tls_parameter_keeps_asyncpg_default() -> None:
    """Without TLS parameters asyncpg's own default applies (prefer, or PGSSLMODE)."""
    url, ssl = tls_argument(sa.make_url(PG))
    assert ssl is None
    assert url == sa.make_url(PG)
