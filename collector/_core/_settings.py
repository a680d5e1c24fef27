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
# Organizations' ParentId pattern: a root (r-...) or an OU (ou-<root part>-<ou part>).
OU_ID = re.compile(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}", re.ASCII)
SHARD = re.compile(r"(\d+)/(\d+)", re.ASCII)
RUN_LABEL = re.compile(r"[A-Za-z0-9_.:+-]{1,64}", re.ASCII)
ENV_PREFIX = "COLLECTOR_"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything one `collector run` needs to know."""

    database_url: str = "sqlite:///collector.db"
    accounts: tuple[str, ...] = ()
    organization: bool = False
    exclude_accounts: tuple[str, ...] = ()
    organizational_units: tuple[str, ...] = ()
    exclude_organizational_units: tuple[str, ...] = ()
    account_regions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(account id, its regions) pairs, sorted: a tuple rather than a dict keeps this hashable."""
    role_name: str | None = None
    external_id: str | None = None
    regions: tuple[str, ...] = APPFLOW_REGIONS
    concurrency: int = 100
    max_attempts: int = 5
    connector_type: str | None = None
    profile_name: tuple[str, ...] = field(default=())
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float | None = None
    log_format: str = "text"
    metrics_file: str | None = None
    shard: str | None = None
    run_label: str | None = None

    @property
    def filtered(self) -> bool:
        return bool(self.connector_type or self.profile_name)

    def regions_for(self, account_id: str) -> tuple[str, ...]:
        """The regions to list in an account: its own from `account_regions`, else `regions`."""
        for account, regions in self.account_regions:
            if account == account_id:
                return regions
        return self.regions


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
    "exclude_accounts": Option("list", "accounts not to collect (still recorded)", "ID,..."),
    "organizational_units": Option(
        "list", "with --organization: only accounts under these OUs or root, recursively", "OU,..."
    ),
    "exclude_organizational_units": Option(
        "list", "with --organization: not accounts under these OUs, recursively", "OU,..."
    ),
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
    "deadline": Option(
        "float", "stop the whole run after this long, recorded as interrupted", "SECONDS"
    ),
    "log_format": Option("str", "text (default) or json: one JSON object per line", "FORMAT"),
    "metrics_file": Option("str", "write Prometheus metrics (textfile collector) here", "PATH"),
    "shard": Option("str", "collect only shard INDEX of COUNT (accounts split by hash)", "I/N"),
    "run_label": Option("str", "label grouping the runs of one scheduled pass", "LABEL"),
}
OPTION_KINDS = {name: option.kind for name, option in OPTIONS.items()}
# Settings only a config file can give: a table per account has no natural flag or variable.
FILE_ONLY_KEYS = frozenset({"account_regions"})
assert set(OPTIONS) | FILE_ONLY_KEYS == {f.name for f in fields(Settings)}


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
        if name not in OPTION_KINDS and name not in FILE_ONLY_KEYS:
            unknown.append(key)
        elif name == "account_regions" and name in names:
            values[name] = _account_regions(value, f"{path}: {key}")
        elif name in names:
            values[name] = _coerce(name, value, f"{path}: {key}")
    if unknown:
        raise ConfigError(f"config file {path}: unknown key(s): {', '.join(sorted(unknown))}")
    return values


def _from_env(environ: Mapping[str, str], names: frozenset[str]) -> dict[str, Any]:
    values = {}
    for name in names & OPTION_KINDS.keys():
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
    _validate_scoping(settings, values)
    if settings.role_name is not None and not ROLE_NAME.fullmatch(settings.role_name):
        raise ConfigError(f"role name {settings.role_name!r} is not a valid IAM role name")
    if settings.external_id is not None and not EXTERNAL_ID.fullmatch(settings.external_id):
        raise ConfigError("external id must be 2 to 1224 characters of [\\w+=,.@:/-]")
    if settings.concurrency < 1:
        raise ConfigError(f"--concurrency must be at least 1, not {settings.concurrency}")
    if settings.max_attempts < 1:
        raise ConfigError(f"--max-attempts must be at least 1, not {settings.max_attempts}")
    _validate_operations(settings)
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


def _validate_operations(settings: Settings) -> None:
    if settings.deadline is not None and not 0 < settings.deadline < math.inf:
        raise ConfigError(
            f"--deadline must be a positive number of seconds, not {settings.deadline}"
        )
    if settings.log_format not in ("text", "json"):
        raise ConfigError(f"--log-format must be text or json, not {settings.log_format!r}")
    if settings.shard is not None:
        parse_shard(settings.shard)
    if settings.run_label is not None and not RUN_LABEL.fullmatch(settings.run_label):
        raise ConfigError("--run-label must be 1 to 64 characters of [A-Za-z0-9_.:+-]")


def parse_shard(text: str) -> tuple[int, int]:
    """`"2/8"` -> (2, 8): shard index (0-based) and count."""
    match = SHARD.fullmatch(text.strip())
    if not match:
        raise ConfigError(f"--shard must look like INDEX/COUNT (e.g. 0/4), not {text!r}")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"--shard {text}: INDEX must be in 0..COUNT-1")
    return index, count


def _validate_scoping(settings: Settings, values: Mapping[str, Any]) -> None:
    """The options that narrow which accounts are collected."""
    for account in settings.exclude_accounts:
        if not ACCOUNT_ID.fullmatch(account):
            raise ConfigError(f"--exclude-accounts: account id {account!r} is not 12 digits")
    for name in ("exclude_accounts", "organizational_units", "exclude_organizational_units"):
        # An empty list given on purpose is more likely a mistake than a wish for no scoping.
        if name in values and not getattr(settings, name):
            raise ConfigError(f"{Option.flag(name)} is empty")
    for name in ("organizational_units", "exclude_organizational_units"):
        ous: tuple[str, ...] = getattr(settings, name)
        for ou in ous:
            if not OU_ID.fullmatch(ou):
                raise ConfigError(
                    f"{Option.flag(name)}: {ou!r} is not an OU id (ou-xxxx-xxxxxxxx) "
                    "or a root id (r-xxxx)"
                )
        if ous and not settings.organization:
            raise ConfigError(f"{Option.flag(name)} needs --organization")


def _account_regions(value: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The `[account_regions]` table: account id -> a list of regions, or "all"."""
    if not isinstance(value, dict):
        raise ConfigError(f'{where} must be a table of "account id" = [regions] or "all"')
    pairs = []
    for account, given in value.items():
        label = f'{where}."{account}"'
        if not ACCOUNT_ID.fullmatch(account):
            raise ConfigError(f"{label}: account id {account!r} is not 12 digits")
        items = given.split(",") if isinstance(given, str) else given
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f'{label} must be a list of regions or "all"')
        pairs.append((account, _regions(tuple(i.strip() for i in items if i.strip()), label)))
    return tuple(sorted(pairs))


def _regions(given: tuple[str, ...] | None, label: str = "--regions") -> tuple[str, ...]:
    if given is None or tuple(given) == ("all",):
        return APPFLOW_REGIONS
    if not given:
        raise ConfigError(f"{label} is empty")
    for region in given:
        if region == "all":
            raise ConfigError(f"{label} all cannot be combined with other regions")
        if region not in APPFLOW_REGIONS:
            raise ConfigError(
                f"{label}: region {region!r} is not an AppFlow region "
                f"(known: {', '.join(APPFLOW_REGIONS)})"
            )
    return tuple(dict.fromkeys(given))
