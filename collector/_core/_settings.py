"""Settings for a run: from flags, `COLLECTOR_*` variables and a TOML file, flags winning.

Every value is checked here, before anything connects anywhere; a bad one raises
`ConfigError` with one line that names it.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ._database import async_url
from ._errors import ConfigError
from ._regions import APPFLOW_REGIONS

# AWS identifiers are ASCII; Python's \d and \w would also accept other scripts' digits.
ACCOUNT_ID = re.compile(r"\d{12}", re.ASCII)
ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
PROFILE_NAME = re.compile(r"[\w/!@#+=.-]{1,256}")
CONNECTOR_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
ENV_PREFIX = "COLLECTOR_"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything one `collector run` needs to know."""

    database_url: str = "sqlite:///collector.db"
    accounts: tuple[str, ...] = ()
    organization: bool = False
    role_name: str | None = None
    external_id: str | None = None
    regions: tuple[str, ...] = APPFLOW_REGIONS
    concurrency: int = 100
    max_attempts: int = 5
    connector_type: str | None = None
    profile_name: tuple[str, ...] = field(default=())
    connect_timeout: float = 10.0
    read_timeout: float = 30.0

    @property
    def filtered(self) -> bool:
        return bool(self.connector_type or self.profile_name)


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its type, and how `--help` shows it.

    The name (a `Settings` field) gives the flag (`--max-attempts`), the environment variable
    (`COLLECTOR_MAX_ATTEMPTS`) and the TOML key (`max_attempts`).
    """

    kind: str  # "str", "int", "float", "bool" or "list"
    help: str
    metavar: str | None = None
    repeatable: bool = False

    @staticmethod
    def flag(name: str) -> str:
        return "--" + name.replace("_", "-")


OPTIONS: dict[str, Option] = {
    "database_url": Option(
        "str",
        "SQLAlchemy URL: sqlite:///inventory.db or postgresql://user:pw@host/db "
        "(default sqlite:///collector.db)",
        "URL",
    ),
    "accounts": Option("list", "accounts to collect, 12-digit ids", "ID,..."),
    "organization": Option("bool", "discover the accounts with Organizations ListAccounts"),
    "role_name": Option("str", "role to assume in each account", "NAME"),
    "external_id": Option("str", "external id for AssumeRole", "ID"),
    "regions": Option("list", "AppFlow regions to list (default all)", "R,...|all"),
    "concurrency": Option("int", "scopes listed at once (default 100)", "N"),
    "max_attempts": Option("int", "attempts per API call, first included (default 5)", "N"),
    "connector_type": Option("str", "targeted refresh: only this connector type", "T"),
    "profile_name": Option(
        "list", "targeted refresh: only this profile (repeatable)", "NAME", repeatable=True
    ),
    "connect_timeout": Option("float", "TCP connect timeout (default 10)", "SECONDS"),
    "read_timeout": Option("float", "read timeout per request (default 30)", "SECONDS"),
}
OPTION_KINDS = {name: option.kind for name, option in OPTIONS.items()}
assert set(OPTIONS) == {f.name for f in fields(Settings)}


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
    names = allowed if allowed is not None else frozenset(OPTION_KINDS)
    merged: dict[str, Any] = {}
    config_path = flags.get("config") or environ.get(f"{ENV_PREFIX}CONFIG")
    if config_path:
        merged.update(_from_file(Path(config_path), names))
    merged.update(_from_env(environ, names))
    merged.update(
        {
            k: _coerce(k, v, "--" + k.replace("_", "-"))
            for k, v in flags.items()
            if k in names and v is not None
        }
    )
    return _validate(merged)


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
    values: dict[str, Any] = {}
    unknown = []
    for key, value in section.items():
        name = key.replace("-", "_")
        if name not in OPTION_KINDS:
            unknown.append(key)
        elif name in names:
            values[name] = _coerce(name, value, f"{path}: {key}")
    if unknown:
        raise ConfigError(f"config file {path}: unknown key(s): {', '.join(sorted(unknown))}")
    return values


def _from_env(environ: Mapping[str, str], names: frozenset[str]) -> dict[str, Any]:
    values = {}
    for name in names:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = _coerce(name, raw, ENV_PREFIX + name.upper())
    return values


def _coerce(name: str, value: Any, where: str) -> Any:
    kind = OPTION_KINDS[name]
    if kind == "list":
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, tuple | list) and all(isinstance(i, str) for i in items):
            stripped = tuple(i.strip() for i in items)
            if name == "profile_name" and not all(stripped):
                # Dropping an empty name would turn a targeted refresh into a full listing.
                raise ConfigError(f"{where} contains an empty profile name")
            return tuple(i for i in stripped if i)
        raise ConfigError(f"{where} must be a list of strings or a comma-separated string")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in (
            "1",
            "true",
            "yes",
            "on",
            "0",
            "false",
            "no",
            "off",
        ):
            return value.lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    if kind in ("int", "float"):
        if isinstance(value, bool) or (kind == "int" and isinstance(value, float)):
            raise ConfigError(
                f"{where} must be {'an integer' if kind == 'int' else 'a number'}, not {value!r}"
            )
        try:
            return int(value) if kind == "int" else float(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{where} must be {'an integer' if kind == 'int' else 'a number'}, not {value!r}"
            ) from None
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, not {value!r}")
    return value


def _validate(values: dict[str, Any]) -> Settings:
    settings = Settings(**{**values, "regions": _regions(values.get("regions"))})
    async_url(settings.database_url)
    for account in settings.accounts:
        if not ACCOUNT_ID.fullmatch(account):
            raise ConfigError(f"account id {account!r} is not 12 digits")
    if len(set(settings.accounts)) != len(settings.accounts):
        raise ConfigError("--accounts lists the same account more than once")
    if settings.accounts and settings.organization:
        raise ConfigError("--accounts and --organization cannot be used together")
    if len(settings.accounts) > 1 and not settings.role_name:
        raise ConfigError("several --accounts need --role-name to assume a role in each")
    if "accounts" in values and not settings.accounts:
        raise ConfigError("--accounts is empty")
    if settings.role_name is not None and not ROLE_NAME.fullmatch(settings.role_name):
        raise ConfigError(f"role name {settings.role_name!r} is not a valid IAM role name")
    if settings.external_id is not None and not EXTERNAL_ID.fullmatch(settings.external_id):
        raise ConfigError("external id must be 2 to 1224 characters of [\\w+=,.@:/-]")
    if settings.concurrency < 1:
        raise ConfigError(f"--concurrency must be at least 1, not {settings.concurrency}")
    if settings.max_attempts < 1:
        raise ConfigError(f"--max-attempts must be at least 1, not {settings.max_attempts}")
    for name in ("connect_timeout", "read_timeout"):
        if not 0 < getattr(settings, name) < math.inf:
            raise ConfigError(f"--{name.replace('_', '-')} must be positive")
    if settings.connector_type is not None and not CONNECTOR_TYPE.fullmatch(
        settings.connector_type
    ):
        raise ConfigError(f"connector type {settings.connector_type!r} is not a valid name")
    for name in settings.profile_name:
        if not PROFILE_NAME.fullmatch(name):
            raise ConfigError(f"profile name {name!r} does not match [\\w/!@#+=.-]{{1,256}}")
    return settings


def _regions(given: tuple[str, ...] | None) -> tuple[str, ...]:
    if given is None or tuple(given) == ("all",):
        return APPFLOW_REGIONS
    if not given:
        raise ConfigError("--regions is empty")
    for region in given:
        if region == "all":
            raise ConfigError("--regions all cannot be combined with other regions")
        if region not in APPFLOW_REGIONS:
            raise ConfigError(
                f"region {region!r} is not an AppFlow region (known: {', '.join(APPFLOW_REGIONS)})"
            )
    return tuple(dict.fromkeys(given))
