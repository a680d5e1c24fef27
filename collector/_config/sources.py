"""Where settings come from: flags, `COLLECTOR_*` variables and a TOML file, flags winning."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from .options import FILE_ONLY_KEYS, OPTION_KINDS, coerce
from .settings import Settings, check_account_id, regions_of, validate

ENV_PREFIX = "COLLECTOR_"


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
            k: coerce(k, v, "--" + k.replace("_", "-"))
            for k, v in flags.items()
            if k in names and v is not None
        }
    )
    return validate(merged)


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
            values[name] = coerce(name, value, f"{path}: {key}")
    if unknown:
        raise ConfigError(f"config file {path}: unknown key(s): {', '.join(sorted(unknown))}")
    return values


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
