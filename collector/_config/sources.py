"""Where settings come from: flags, `COLLECTOR_*` variables and a TOML file, flags winning."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from .database_url import parse_database_url
from .options import ENV_PREFIX, FILE_ONLY_KEYS, OPTION_KINDS, coerce
from .secrets import pushgateway_authorization
from .settings import Settings, check_account_id, regions_of, validate
from .suggest import closest


def load_settings(
    flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    allowed: frozenset[str] | None = None,
) -> Settings:
    """Merge the three sources (flag > environment > file) and validate the result.

    `flags` holds only the flags given on the command line, plus `config` for the file.
    `allowed` limits which options a command reads (e.g. `db upgrade` only the database).
    """
    environ = os.environ if environ is None else environ
    names = allowed if allowed is not None else frozenset(OPTION_KINDS) | FILE_ONLY_KEYS
    if "database_url" in names:
        names |= {"database_url_file"}
    merged: dict[str, Any] = {}
    config_path = flags.get("config") or environ.get(f"{ENV_PREFIX}CONFIG")
    if config_path:
        _merge(
            merged,
            _from_file(Path(config_path), names),
            f"config file {config_path}: database_url and database_url_file are both set",
        )
    _merge(
        merged,
        _from_env(environ, names),
        f"{ENV_PREFIX}DATABASE_URL and {ENV_PREFIX}DATABASE_URL_FILE are both set",
    )
    _merge(
        merged,
        {
            k: coerce(k, v, "--" + k.replace("_", "-"))
            for k, v in flags.items()
            if k in names and v is not None
        },
        "--database-url and --database-url-file cannot be used together",
    )
    if merged.get("database_url_file"):
        merged["database_url"] = read_database_url_file(merged["database_url_file"])
    settings = validate(merged)
    # Read now, though used only at the end: a missing or empty file is exit 2 before the run.
    pushgateway_authorization(settings)
    return settings


# Two ways to give one setting: a source gives one or the other, and the one a stronger
# source gives replaces whichever a weaker source gave.
_DATABASE_URL_KEYS = ("database_url", "database_url_file")


def _merge(merged: dict[str, Any], values: dict[str, Any], both_given: str) -> None:
    given = [key for key in _DATABASE_URL_KEYS if key in values]
    if len(given) > 1:
        raise ConfigError(both_given)
    if given:
        for key in _DATABASE_URL_KEYS:
            merged.pop(key, None)
    merged.update(values)


def read_database_url_file(path: str) -> str:
    """The database URL held in a file (its trailing newline stripped); `ConfigError` if none."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"database URL file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"database URL file {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"database URL file {path} is not UTF-8 text") from None
    url = text.strip()
    if not url:
        raise ConfigError(f"database URL file {path} is empty")
    if "\n" in url:
        raise ConfigError(f"database URL file {path} must hold one line: the URL")
    return url


def _from_file(path: Path, names: frozenset[str]) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    section = data.get("collector", data) if isinstance(data.get("collector"), dict) else data
    _check_private(path, section)
    values: dict[str, Any] = {}
    unknown = []
    for key, value in section.items():
        name = key.replace("-", "_")
        if name not in OPTION_KINDS and name not in FILE_ONLY_KEYS:
            unknown.append(key)
        elif name == "account_regions" and name in names:
            values[name] = _account_regions(value, f"{path}: {key}")
        elif name in names:
            values[name] = coerce(name, value, f"{path}: {key}")
    if unknown:
        keys = sorted(OPTION_KINDS.keys() | FILE_ONLY_KEYS)
        named = []
        for key in sorted(unknown):
            match = closest(key.replace("-", "_"), keys)
            named.append(f"{key} (did you mean {match}?)" if match else key)
        raise ConfigError(f"config file {path}: unknown key(s): {', '.join(named)}")
    return values


def _check_private(path: Path, section: dict[str, Any]) -> None:
    """A file that holds a database password must be readable by its owner alone."""
    url = next((v for k, v in section.items() if k.replace("-", "_") == "database_url"), None)
    if not isinstance(url, str) or not _has_password(url):
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # it was just read; a file gone since is not worth a second error
    if mode & 0o077:
        raise ConfigError(
            f"config file {path} holds a database password but other users can read it "
            f"(mode {stat.S_IMODE(mode):04o}): chmod 600 {path}"
        )


def _has_password(url: str) -> bool:
    try:
        return parse_database_url(url).has_password
    except ConfigError:
        return False  # reported as a bad URL when the settings are checked


def _from_env(environ: Mapping[str, str], names: frozenset[str]) -> dict[str, Any]:
    values = {}
    for name in names & OPTION_KINDS.keys():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = coerce(name, raw, ENV_PREFIX + name.upper())
    return values


def _account_regions(value: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The `[account_regions]` table: account id -> a list of regions, or "all"."""
    if not isinstance(value, dict):
        raise ConfigError(f'{where} must be a table of "account id" = [regions] or "all"')
    pairs = []
    for account, given in value.items():
        label = f'{where}."{account}"'
        check_account_id(account, f"{label}: ")
        items = given.split(",") if isinstance(given, str) else given
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f'{label} must be a list of regions or "all"')
        pairs.append((account, regions_of(tuple(i.strip() for i in items if i.strip()), label)))
    return tuple(sorted(pairs))
