"""Settings for a run, and every check on them.

Every value is checked here, before anything connects anywhere; a bad one raises
`ConfigError` with one line that names it. Standard library only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .._errors import ConfigError
from .._model.regions import REGION_SYNTAX
from .._model.resource import Resource
from .._model.resources import PROFILES, RESOURCES, resource_named
from .._model.scopes import Shard
from .database_url import parse_database_url
from .options import Option

# AWS identifiers are ASCII; Python's \d and \w would also accept other scripts' digits.
ACCOUNT_ID = re.compile(r"\d{12}", re.ASCII)
ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
# IAM paths: printable ASCII between slashes, at most 512 characters in all.
ROLE_PATH_PART = re.compile(r"[\x21-\x2E\x30-\x7E]+", re.ASCII)
MAX_ROLE_PATH = 512
# `--regions all`: the AppFlow regions of the caller's partition, known only at run start.
ALL_REGIONS: tuple[str, ...] = ("all",)
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
PROFILE_NAME = re.compile(r"[\w/!@#+=.-]{1,256}")
CONNECTOR_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
# Organizations' ParentId pattern: a root (r-...) or an OU (ou-<root part>-<ou part>).
OU_ID = re.compile(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}", re.ASCII)
RUN_LABEL = re.compile(r"[A-Za-z0-9_.:+-]{1,64}", re.ASCII)
# Deployment kit. Schema names are plain lower-case identifiers, so SQL never needs quotes.
SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}", re.ASCII)
ROLE_ARN = re.compile(
    r"arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}", re.ASCII
)
MAX_SCOPE_BUDGET_MIB = 4096
# A Pushgateway's host: a DNS name, an IPv4 address or a bracketed IPv6 address.
PUSHGATEWAY_HOST = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\]", re.ASCII
)
PUSHGATEWAY_PATH = re.compile(r"(?:/[A-Za-z0-9._~%!$&'()*+,;=:@-]*)*", re.ASCII)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything one `collector run` needs to know."""

    database_url: str = "sqlite:///collector.db"
    # Database secrets kept off the command line: where `database_url` was read from.
    database_url_file: str | None = None
    accounts: tuple[str, ...] = ()
    organization: bool = False
    exclude_accounts: tuple[str, ...] = ()
    organizational_units: tuple[str, ...] = ()
    exclude_organizational_units: tuple[str, ...] = ()
    account_regions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(account id, its regions) pairs, sorted: a tuple rather than a dict keeps this hashable."""
    role_name: str | None = None
    external_id: str | None = None
    regions: tuple[str, ...] = ALL_REGIONS
    """`ALL_REGIONS`, or region names checked for syntax (membership is checked at run start)."""
    concurrency: int = 100
    max_attempts: int = 5
    connector_type: str | None = None
    profile_name: tuple[str, ...] = field(default=())
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float | None = None
    log_format: str = "text"
    metrics_file: str | None = None
    shard: Shard | None = None
    run_label: str | None = None
    pushgateway_url: str | None = None
    schema: str | None = None
    organization_role_arn: str | None = None
    connector_label: str | None = None
    account_rate: float = 20.0
    resources: tuple[Resource, ...] | None = None
    """The resources `--resources` names (None: the default, see `listed_resources`)."""
    no_caller_credentials: bool = False
    database_patience: float = 120.0
    describe_max_age: float = 86400.0
    scope_budget_mib: int = 32
    pushgateway_token_file: str | None = None
    pushgateway_basic_auth_file: str | None = None
    summary_file: str | None = None

    @property
    def filtered(self) -> bool:
        return bool(self.connector_type or self.profile_name or self.connector_label)

    @property
    def listed_resources(self) -> tuple[Resource, ...]:
        """The resources this run lists, in listing order: `--resources`, else every one,
        except that a targeted refresh of profiles lists only profiles unless `--resources`
        names more."""
        if self.resources is not None:
            return self.resources
        return (PROFILES,) if self.filtered else RESOURCES

    def regions_for(self, account_id: str) -> tuple[str, ...]:
        """The regions to list in an account: its own from `account_regions`, else `regions`."""
        for account, regions in self.account_regions:
            if account == account_id:
                return regions
        return self.regions


def option_default(name: str) -> str | None:
    """The default of option `name` as `--help` shows it (None: unset unless given)."""
    value = Settings.__dataclass_fields__[name].default
    if value is None or value == () or value is False:
        return None
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def check_account_id(account: str, where: str = "") -> str:
    """`account` if it is a 12-digit account id (leading zeros are real), else `ConfigError`."""
    if not ACCOUNT_ID.fullmatch(account):
        raise ConfigError(f"{where}account id {account!r} is not 12 digits")
    return account


def validate(values: dict[str, Any]) -> Settings:
    settings = Settings(
        **{
            **values,
            "regions": regions_of(values.get("regions")),
            "shard": _shard(values),
            "resources": _resources(values),
        }
    )
    parse_database_url(settings.database_url)
    _validate_accounts(settings, values)
    _validate_scoping(settings, values)
    _validate_aws(settings)
    _validate_operations(settings)
    _validate_deployment(settings)
    for name in ("connect_timeout", "read_timeout"):
        if not 0 < getattr(settings, name) < math.inf:
            raise ConfigError(f"--{name.replace('_', '-')} must be positive")
    _validate_filters(settings)
    _validate_resources(settings)
    if settings.organization and not settings.role_name:
        # The caller's credentials reach only the caller's account: listing the others
        # with them would store its profiles under every member account's id.
        raise ConfigError("--organization needs --role-name to assume a role in each account")
    return settings


def _validate_accounts(settings: Settings, values: Mapping[str, Any]) -> None:
    """`--accounts`: account ids, each once, not with `--organization`."""
    for account in settings.accounts:
        check_account_id(account)
    if len(set(settings.accounts)) != len(settings.accounts):
        raise ConfigError("--accounts lists the same account more than once")
    if settings.accounts and settings.organization:
        raise ConfigError("--accounts and --organization cannot be used together")
    if len(settings.accounts) > 1 and not settings.role_name:
        raise ConfigError("several --accounts need --role-name to assume a role in each")
    if "accounts" in values and not settings.accounts:
        raise ConfigError("--accounts is empty")


def _validate_aws(settings: Settings) -> None:
    """The role, and how hard the run may press AWS."""
    if settings.role_name is not None:
        check_role_name(settings.role_name)
    if settings.external_id is not None and not EXTERNAL_ID.fullmatch(settings.external_id):
        raise ConfigError("external id must be 2 to 1224 characters of [\\w+=,.@:/-]")
    if settings.concurrency < 1:
        raise ConfigError(f"--concurrency must be at least 1, not {settings.concurrency}")
    if not 0 < settings.account_rate < math.inf:
        raise ConfigError(f"--account-rate must be a positive number, not {settings.account_rate}")
    if settings.max_attempts < 1:
        raise ConfigError(f"--max-attempts must be at least 1, not {settings.max_attempts}")
    if not 0 <= settings.database_patience < math.inf:
        raise ConfigError(
            f"--database-patience must be a number of seconds, not {settings.database_patience}"
        )
    if not 0 < settings.describe_max_age < math.inf:
        raise ConfigError(
            f"--describe-max-age must be a positive number of seconds, "
            f"not {settings.describe_max_age}"
        )
    if not 1 <= settings.scope_budget_mib <= MAX_SCOPE_BUDGET_MIB:
        raise ConfigError(
            f"--scope-budget-mib must be 1 to {MAX_SCOPE_BUDGET_MIB}, "
            f"not {settings.scope_budget_mib}"
        )


def _validate_filters(settings: Settings) -> None:
    """A targeted refresh's filters, as the API's patterns allow them."""
    if settings.connector_type is not None and not CONNECTOR_TYPE.fullmatch(
        settings.connector_type
    ):
        raise ConfigError(f"connector type {settings.connector_type!r} is not a valid name")
    for name in settings.profile_name:
        if not PROFILE_NAME.fullmatch(name):
            raise ConfigError(f"profile name {name!r} does not match [\\w/!@#+=.-]{{1,256}}")
    if settings.connector_label is not None and not CONNECTOR_LABEL.fullmatch(
        settings.connector_label
    ):
        raise ConfigError(
            f"connector label {settings.connector_label!r} does not match "
            "[a-zA-Z0-9][\\w!@#.-]{1,255}"
        )


def _resources(values: Mapping[str, Any]) -> tuple[Resource, ...] | None:
    """`--resources`: known names, at least one; in listing order, each once."""
    given = values.get("resources")
    if given is None:
        return None
    if not given:
        raise ConfigError("--resources is empty")
    named: set[Resource] = set()
    for name in given:
        try:
            named.add(resource_named(name))
        except KeyError:
            choices = ", ".join(r.name for r in RESOURCES)
            raise ConfigError(
                f"--resources: {name!r} is not a resource (choose from {choices})"
            ) from None
    return tuple(resource for resource in RESOURCES if resource in named)


def _validate_resources(settings: Settings) -> None:
    """A targeted refresh needs the profiles it filters."""
    if settings.resources is None:
        return
    if settings.filtered and PROFILES not in settings.resources:
        raise ConfigError(
            "--connector-type, --connector-label and --profile-name filter profiles: "
            "--resources must include profiles"
        )


# The API's pattern for connectorLabel, at most 256 characters.
CONNECTOR_LABEL = re.compile(r"[a-zA-Z0-9][\w!@#.-]{1,255}", re.ASCII)


def check_role_name(role_name: str) -> str:
    """`role_name` if it is an IAM role name, optionally after an IAM path
    (`team/AppFlowReader`); else `ConfigError`."""
    *path, name = role_name.removeprefix("/").split("/")
    full_path = "/" + "".join(part + "/" for part in path)
    if (
        not ROLE_NAME.fullmatch(name)
        or not all(ROLE_PATH_PART.fullmatch(part) for part in path)
        or len(full_path) > MAX_ROLE_PATH
    ):
        raise ConfigError(
            f"role name {role_name!r} is not a valid IAM role name "
            "(NAME or PATH/NAME, NAME of [\\w+=,.@-]{1,64})"
        )
    return role_name


def _validate_operations(settings: Settings) -> None:
    if settings.deadline is not None and not 0 < settings.deadline < math.inf:
        raise ConfigError(
            f"--deadline must be a positive number of seconds, not {settings.deadline}"
        )
    if settings.log_format not in ("text", "json"):
        raise ConfigError(f"--log-format must be text or json, not {settings.log_format!r}")
    if settings.run_label is not None and not RUN_LABEL.fullmatch(settings.run_label):
        raise ConfigError("--run-label must be 1 to 64 characters of [A-Za-z0-9_.:+-]")


def check_schema(name: str) -> str:
    """`name` if it is a schema name the collector accepts, else `ConfigError`."""
    if not SCHEMA.fullmatch(name):
        raise ConfigError(
            "--schema must be 1 to 63 characters of [a-z0-9_], not starting with a digit"
        )
    return name


def _validate_deployment(settings: Settings) -> None:
    """The options of the deployment kit: Pushgateway, schema, Organizations role."""
    if settings.pushgateway_url is not None:
        check_pushgateway_url(settings.pushgateway_url)
    _validate_pushgateway_credentials(settings)
    if settings.schema is not None:
        check_schema(settings.schema)
        if parse_database_url(settings.database_url).backend != "postgresql":
            raise ConfigError("--schema needs a PostgreSQL database; SQLite has no schemas")
    arn = settings.organization_role_arn
    if arn is not None:
        if not ROLE_ARN.fullmatch(arn):
            raise ConfigError(f"--organization-role-arn {arn!r} is not an IAM role ARN")
        if not settings.organization:
            raise ConfigError("--organization-role-arn needs --organization")


def check_pushgateway_url(url: str) -> str:
    """`url` if it is http(s)://host[:port][/path], else `ConfigError` saying what is wrong.

    Checked here rather than at the push, when a bad URL (a port that is not a number, a
    control character) would only fail at the end of a run. No user:password@ either: a URL
    is logged, and credentials come from a file (`--pushgateway-token-file`).
    """
    shown = f"--pushgateway-url {url!r}"
    if not url.isascii() or not url.isprintable() or " " in url:
        raise ConfigError(f"{shown}: only printable ASCII, without spaces")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not url.startswith(parts.scheme + "://"):
        raise ConfigError(f"{shown}: must be http://host[:port][/path] or https://...")
    if "@" in parts.netloc:
        raise ConfigError(
            "--pushgateway-url: no credentials in the URL (it is logged); use "
            "--pushgateway-token-file or --pushgateway-basic-auth-file"
        )
    host, colon, port = parts.netloc, "", ""
    if _has_port(parts.netloc):
        host, colon, port = parts.netloc.rpartition(":")
    if not PUSHGATEWAY_HOST.fullmatch(host):
        raise ConfigError(f"{shown}: {host!r} is not a host name or address")
    if colon and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise ConfigError(f"{shown}: the port must be a number from 1 to 65535")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ConfigError(f"{shown}: no query or fragment")
    if not PUSHGATEWAY_PATH.fullmatch(parts.path):
        raise ConfigError(f"{shown}: the path holds characters a URL path cannot")
    return url


def _has_port(netloc: str) -> bool:
    # "[::1]:9091" has a port, "[::1]" has not; "host:9091" has.
    return ":" in netloc.rpartition("]")[2]


def _validate_pushgateway_credentials(settings: Settings) -> None:
    """Credentials for the Pushgateway come from a file, travel only over https, one kind."""
    files = [
        name
        for name in ("pushgateway_token_file", "pushgateway_basic_auth_file")
        if getattr(settings, name) is not None
    ]
    if not files:
        return
    if len(files) > 1:
        raise ConfigError(
            "--pushgateway-token-file and --pushgateway-basic-auth-file cannot be used together"
        )
    flag = Option.flag(files[0])
    if settings.pushgateway_url is None:
        raise ConfigError(f"{flag} needs --pushgateway-url")
    if not settings.pushgateway_url.startswith("https://"):
        raise ConfigError(f"{flag} needs an https:// --pushgateway-url: it sends a credential")


def _validate_scoping(settings: Settings, values: Mapping[str, Any]) -> None:
    """The options that narrow which accounts are collected."""
    for account in settings.exclude_accounts:
        check_account_id(account, "--exclude-accounts: ")
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


def regions_of(given: tuple[str, ...] | None, label: str = "--regions") -> tuple[str, ...]:
    """`ALL_REGIONS`, or the regions given, each checked to look like a region name.

    Whether AppFlow runs there depends on the caller's partition, which only AWS can tell:
    that is checked at run start, before anything is written.
    """
    if given is None or tuple(given) == ALL_REGIONS:
        return ALL_REGIONS
    if not given:
        raise ConfigError(f"{label} is empty")
    for region in given:
        if region == "all":
            raise ConfigError(f"{label} all cannot be combined with other regions")
        if not REGION_SYNTAX.fullmatch(region):
            raise ConfigError(f"{label}: {region!r} is not a region name (like us-east-1)")
    return tuple(dict.fromkeys(given))


def _shard(values: Mapping[str, Any]) -> Shard | None:
    text = values.get("shard")
    if text is None:
        return None
    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
