"""The option table: one entry per setting, giving its flag, variable, TOML key and type.

The name (a `Settings` field) gives the flag (`--max-attempts`), the environment variable
(`COLLECTOR_MAX_ATTEMPTS`) and the TOML key (`max_attempts`); `coerce` turns a value from any
of the three into the option's type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import ConfigError
from .._model.resources import RESOURCES
from .durations import DURATION_FORMS, parse_duration

GROUPS = {
    "scope": "what to collect",
    "aws": "AWS: roles, pacing, retries and timeouts",
    "database": "the database",
    "output": "logs, metrics and the run's result",
    "operation": "scheduling: deadlines, shards and labels",
}
"""The groups `--help` shows the options in, in this order, with their titles."""


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its type, and how `--help` shows it.

    The name (a `Settings` field) gives the flag (`--max-attempts`), the environment variable
    (`COLLECTOR_MAX_ATTEMPTS`) and the TOML key (`max_attempts`).
    """

    kind: str  # "str", "int", "float", "bool", "list" or "duration" (seconds)
    help: str
    metavar: str | None = None
    repeatable: bool = False
    group: str = "scope"
    """One of `GROUPS`."""

    @staticmethod
    def flag(name: str) -> str:
        return "--" + name.replace("_", "-")

    @staticmethod
    def variable(name: str) -> str:
        return ENV_PREFIX + name.upper()


ENV_PREFIX = "COLLECTOR_"

OPTIONS: dict[str, Option] = {
    "database_url": Option(
        "str",
        "SQLAlchemy URL: sqlite:///inventory.db or postgresql://user@host/db?sslmode=verify-full "
        "(keep passwords off the command line: --database-url-file, PGPASSWORD)",
        "URL",
        group="database",
    ),
    # Database secrets kept off the command line: the URL read from a file (a mounted
    # Kubernetes Secret, say), instead of --database-url.
    "database_url_file": Option(
        "str",
        "read the database URL from this file (instead of --database-url)",
        "PATH",
        group="database",
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
    "role_name": Option(
        "str", "role to assume in each account, optionally PATH/NAME", "NAME", group="aws"
    ),
    "external_id": Option("str", "external id for AssumeRole", "ID", group="aws"),
    "regions": Option("list", "AppFlow regions to list", "R,...|all"),
    "concurrency": Option("int", "scopes listed at once", "N", group="aws"),
    "max_attempts": Option("int", "attempts per API call, first included", "N", group="aws"),
    "connector_type": Option("str", "targeted refresh: only this connector type", "T"),
    "profile_name": Option(
        "list", "targeted refresh: only this profile (repeatable)", "NAME", repeatable=True
    ),
    "connect_timeout": Option("duration", "TCP connect timeout", "DURATION", group="aws"),
    "read_timeout": Option("duration", "read timeout per request", "DURATION", group="aws"),
    "deadline": Option(
        "duration",
        "stop the whole run after this long, recorded as interrupted",
        "DURATION",
        group="operation",
    ),
    "log_format": Option(
        "str",
        "text, or json: one JSON object per line on stdout and stderr",
        "FORMAT",
        group="output",
    ),
    "metrics_file": Option(
        "str", "write Prometheus metrics (textfile collector) here", "PATH", group="output"
    ),
    "shard": Option(
        "str",
        "collect only shard INDEX of COUNT (accounts split by hash)",
        "I/N",
        group="operation",
    ),
    "run_label": Option(
        "str", "label grouping the runs of one scheduled pass", "LABEL", group="operation"
    ),
    "pushgateway_url": Option(
        "str",
        "push the run's metrics to this Prometheus Pushgateway, grouped by shard",
        "URL",
        group="output",
    ),
    "schema": Option(
        "str",
        "PostgreSQL only: keep the inventory's tables in this schema (created if missing)",
        "NAME",
        group="database",
    ),
    "organization_role_arn": Option(
        "str", "with --organization: make the Organizations calls as this role", "ARN", group="aws"
    ),
    "connector_label": Option(
        "str", "targeted refresh: only profiles of this custom connector label", "LABEL"
    ),
    # A ceiling per account, whatever the concurrency.
    "account_rate": Option(
        "float", "at most this many AWS requests per second per account", "N", group="aws"
    ),
    # What one scope may hold in memory, and the Pushgateway's credentials.
    "scope_budget_mib": Option(
        "int",
        "MiB of AWS responses one (account, region) scope may read; over it the scope fails "
        "as too_large",
        "MIB",
        group="aws",
    ),
    "pushgateway_token_file": Option(
        "str", "push with the bearer token held in this file (https only)", "PATH", group="output"
    ),
    "pushgateway_basic_auth_file": Option(
        "str",
        "push with basic auth, USER:PASSWORD held in this file (https only)",
        "PATH",
        group="output",
    ),
    "describe_max_age": Option(
        "duration",
        "describe a flow or custom connector again once its description is older than this, "
        "even if its listing shows no change",
        "DURATION",
    ),
    "database_patience": Option(
        "duration",
        "during a run, wait this long for a database that is away (a restart, a failover) "
        "before giving up with exit 3 (0 gives up at once)",
        "DURATION",
        group="database",
    ),
    "no_caller_credentials": Option(
        "bool",
        "when the member role cannot be assumed in the caller's own account, fail its scopes "
        "rather than collect it with the caller's credentials",
        group="aws",
    ),
    "resources": Option(
        "list",
        f"resources to list: {', '.join(r.name for r in RESOURCES)} (default all; a targeted "
        "refresh of profiles lists the others only if named here)",
        "R,...",
    ),
    "summary_file": Option(
        "str",
        "write the run's result (the run_finished event, JSON) to this file when it ends",
        "PATH",
        group="output",
    ),
}
OPTION_KINDS = {name: option.kind for name, option in OPTIONS.items()}
# Settings only a config file can give: a table per account has no natural flag or variable.
FILE_ONLY_KEYS = frozenset({"account_regions"})


def coerce(name: str, value: Any, where: str) -> Any:
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
        return _boolean(value, where)
    if kind in ("int", "float"):
        return _number(kind, value, where)
    if kind == "duration":
        return _duration(value, where)
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, not {value!r}")
    return value


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _boolean(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (*_TRUE, *_FALSE):
        return value.lower() in _TRUE
    raise ConfigError(f"{where} must be true or false, not {value!r}")


def _number(kind: str, value: Any, where: str) -> int | float:
    what = "an integer" if kind == "int" else "a number"
    if isinstance(value, bool) or (kind == "int" and isinstance(value, float)):
        raise ConfigError(f"{where} must be {what}, not {value!r}")
    try:
        return int(value) if kind == "int" else float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be {what}, not {value!r}") from None


def _duration(value: Any, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            pass
    raise ConfigError(f"{where} must be a duration: {DURATION_FORMS}; not {value!r}")
