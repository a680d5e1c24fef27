"""aiobotocore sessions and clients for one run, and the credentials each call uses.

At fleet scale the cost is in clients, not profiles: building a client costs milliseconds of
CPU (event hooks copied, endpoint rules resolved, a connection pool and TLS context of its
own). So the collector builds one AppFlow client per *region* and shares it between
accounts: the client's credentials resolve, per task, to the credentials of the account
that task is acting as (`credentials.acting_as`).

Opening `AwsClients` checks everything about AWS that can be checked before a run starts:
the base credentials are resolved at once (an SSO session that is not logged in is one line,
not a traceback at the first call), one `sts:GetCallerIdentity` names the caller's account
and partition, and the partition's AppFlow regions come from botocore's endpoint data.
"""

from __future__ import annotations

import difflib
import math
from contextlib import AbstractContextManager, AsyncExitStack
from dataclasses import dataclass
from typing import Any

import anyio
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from .._errors import AwsError, ConfigError, ErrorKind
from .._model.regions import DEFAULT_ENABLED_REGIONS
from .bounded import DEFAULT_SCOPE_BUDGET, BoundedHttpSession, ByteBudget, charged_to
from .credentials import ActingAccount, AssumedRoles, acting_resolver
from .errors import credential_error
from .lean import RawBodyParserFactory, sharing_ssl_contexts, user_agent
from .organization_role import organization_role_keys
from .pacing import DEFAULT_ACCOUNT_RATE, AccountPacer
from .partitions import APPFLOW, appflow_regions, check_regions, partition_of
from .regions import RegionStatus
from .retry import Attempts, RetryPolicy, call_with_retries

# The optional EC2 look-up must never hold a run up for long.
_EC2_CONNECT_TIMEOUT = 3.0
_EC2_READ_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class AwsOptions:
    role_name: str | None = None
    external_id: str | None = None
    concurrency: int = 100
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    organization_role_arn: str | None = None
    home_region: str | None = None
    """Region for STS and EC2 when the AWS config names none (a region the run lists)."""
    account_rate: float = DEFAULT_ACCOUNT_RATE
    """Requests per second per account, at most (see `pacing`)."""
    scope_budget: int = DEFAULT_SCOPE_BUDGET
    """Bytes of responses one scope may read (see `bounded`)."""


def _keep_timestamps_raw(session: AioSession) -> None:
    # botocore converts every timestamp to a local-time datetime with dateutil: slow, and in
    # the machine's zone. We read timestamps from the raw body instead.
    factory = RawBodyParserFactory()
    factory.set_parser_defaults(timestamp_parser=lambda value: value)
    session.register_component("response_parser_factory", factory)


class AwsClients:
    """The clients and credentials of one run. Use as an async context manager."""

    def __init__(self, options: AwsOptions, retry: RetryPolicy) -> None:
        self._options = options
        self._retry = retry
        # Organizations, STS and EC2 have low request limits: more patience with throttling.
        self.control_retry = retry.for_control_plane()
        self._stack = AsyncExitStack()
        self._base = AioSession()
        self._acting = AioSession()
        self._acting.register_component("credential_provider", acting_resolver())
        for session in (self._base, self._acting):
            _keep_timestamps_raw(session)
            # Tokens from the global STS endpoint are refused in opt-in regions.
            session.set_config_variable("sts_regional_endpoints", "regional")
        self._http_session_cls = sharing_ssl_contexts(BoundedHttpSession)
        self._user_agent = user_agent()
        self._pacer = AccountPacer(options.account_rate)
        self._acting_accounts: dict[str, ActingAccount] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = anyio.Lock()
        self._sts: Any = None
        self._roles: AssumedRoles | None = None
        self._home_region = "us-east-1"
        self._fips = False
        self.caller_account_id = ""
        self.partition = "aws"
        self.regions: tuple[str, ...] = ()
        """The AppFlow regions of the caller's partition (FIPS ones only under FIPS)."""
        # Attempts of the calls around the listings (STS, EC2), for the run's counts.
        self.control_attempts = Attempts()
        self._region_status = RegionStatus(
            lambda: self._acting_client(
                "ec2", self._home_region, 10, _EC2_CONNECT_TIMEOUT, _EC2_READ_TIMEOUT
            ),
            retry,
            self.control_attempts,
        )

    def _config(
        self, max_pool: int, connect_timeout: float | None = None, read_timeout: float | None = None
    ) -> AioConfig:
        # One attempt per call: the collector's own retry layer decides, and counts.
        return AioConfig(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=min(connect_timeout or math.inf, self._options.connect_timeout),
            read_timeout=min(read_timeout or math.inf, self._options.read_timeout),
            max_pool_connections=max_pool,
            http_session_cls=self._http_session_cls,
            user_agent=self._user_agent,
        )

    async def __aenter__(self) -> AwsClients:
        await self._stack.__aenter__()
        try:
            await self._open()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def _open(self) -> None:
        profile = self._base.profile
        try:
            credentials = await self._base.get_credentials()
            if credentials is None:
                raise ConfigError(
                    "no AWS credentials found (environment, shared config, SSO or instance role)"
                )
            # Resolve now: an SSO session that is not logged in must stop the run here.
            await credentials.get_frozen_credentials()
            region = self._base.get_config_variable("region")
            self._fips = bool(self._base.get_config_variable("use_fips_endpoint"))
        except ConfigError:
            raise
        except Exception as exc:
            error = credential_error(exc, profile, self._sso_session(profile))
            if error is None:
                raise
            raise error from None
        self._home_region = region or self._options.home_region or "us-east-1"
        self._sts = await self._stack.enter_async_context(
            self._base.create_client("sts", region_name=self._home_region, config=self._config(10))
        )
        identity = await self._caller_identity()
        self.caller_account_id = str(identity["Account"])
        self.partition = partition_of(str(identity.get("Arn", "")))
        listed = await self._base.get_available_regions(APPFLOW, self.partition)
        endpoints = self._base.get_component("data_loader").load_data("endpoints")
        self.regions = appflow_regions(listed, self.partition, self._fips, endpoints)
        if self._options.role_name is not None:
            self._roles = AssumedRoles(
                self._sts,
                self._options.role_name,
                self._options.external_id,
                self.control_retry,
                self.control_attempts,
                self.partition,
            )

    def _sso_session(self, profile: str | None) -> str | None:
        """The `sso_session` the profile in use names, if any (to name it in the fix)."""
        try:
            config = self._base.full_config.get("profiles", {}).get(profile or "default", {})
        except Exception:  # the config is what failed to load: nothing to name
            return None
        name = config.get("sso_session")
        return str(name) if name else None

    async def _caller_identity(self) -> dict[str, Any]:
        try:
            response: dict[str, Any] = await call_with_retries(
                lambda: self._sts.get_caller_identity(), self.control_retry, self.control_attempts
            )
        except AwsError as error:
            if error.kind in (ErrorKind.ACCESS_DENIED, ErrorKind.CREDENTIALS_EXPIRED):
                raise ConfigError(
                    f"STS in {self._home_region} refused the AWS credentials ({error}); "
                    "renew them, or set AWS_REGION to a region of their partition"
                ) from None
            raise
        return response

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    def resolve_regions(self, given: tuple[str, ...], label: str = "--regions") -> tuple[str, ...]:
        """`given` with `all` expanded to this partition's AppFlow regions; `ConfigError`
        for a region AppFlow does not have here (or that has no FIPS endpoint under FIPS)."""
        return check_regions(given, self.regions, self._fips, label)

    def connector_type_hint(self, connector_type: str) -> str | None:
        """None if botocore's model knows `connector_type`; else the closest known name
        (or an empty string if none is close)."""
        model = self._base.get_component("data_loader").load_service_model(APPFLOW, "service-2")
        known: list[str] = list(model.get("shapes", {}).get("ConnectorType", {}).get("enum", []))
        if not known or connector_type in known:
            return None
        by_lower = {k.lower(): k for k in known}
        close = difflib.get_close_matches(connector_type.lower(), list(by_lower), n=1, cutoff=0.6)
        return by_lower[close[0]] if close else ""

    async def base_client(self, service: str, region: str | None = None) -> Any:
        """A client on the base credentials (Organizations, and STS for the caller)."""
        return await self._stack.enter_async_context(
            self._base.create_client(
                service, region_name=region or self._home_region, config=self._config(10)
            )
        )

    async def organizations_client(self) -> Any:
        """The Organizations client: on the base credentials, or as `organization_role_arn`
        (assumed from the base credentials) if one is set. Raises `AwsError`."""
        role_arn = self._options.organization_role_arn
        if role_arn is None:
            return await self.base_client("organizations")
        keys = await organization_role_keys(self._sts, role_arn, self._retry, self.control_attempts)
        return await self._stack.enter_async_context(
            self._base.create_client(
                "organizations", region_name=self._home_region, config=self._config(10), **keys
            )
        )

    async def appflow(self, region: str) -> Any:
        """The shared AppFlow client of `region`; calls must run inside `acting_as`."""
        return await self._acting_client("appflow", region, self._options.concurrency)

    def scope_budget(self) -> AbstractContextManager[None]:
        """Charge the responses this task reads in the block to a new scope's byte budget:
        the read that goes over it fails as `too_large`."""
        return charged_to(ByteBudget(self._options.scope_budget))

    async def _acting_client(
        self,
        service: str,
        region: str,
        max_pool: int,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> Any:
        key = (service, region)
        if key not in self._clients:
            async with self._clients_lock:
                if key not in self._clients:
                    config = self._config(max_pool, connect_timeout, read_timeout)
                    client = await self._stack.enter_async_context(
                        self._acting.create_client(service, region_name=region, config=config)
                    )
                    self._clients[key] = client
        return self._clients[key]

    @staticmethod
    def is_opt_in(region: str) -> bool:
        """Whether accounts must opt in to `region`: every region launched since 2019."""
        return region not in DEFAULT_ENABLED_REGIONS

    def issued_by_sts(self, account_id: str) -> bool:
        """Whether the account's credentials in this run came from a regional AssumeRole
        (and so are valid in every region the account has enabled)."""
        return self._roles is not None and self._roles.assumed(account_id)

    async def region_opt_in_status(
        self, account_id: str, region: str, credentials: Any
    ) -> str | None:
        """`OptInStatus` of `region` for the account from EC2; None if EC2 cannot tell."""
        found = await self._region_status.opt_in_status(account_id, credentials)
        return None if found is None else found.get(region)

    async def caller_account(self) -> str:
        """The account id of the base credentials."""
        return self.caller_account_id

    async def base_credentials(self) -> Any:
        return await self._base.get_credentials()

    async def account_credentials(self, account_id: str) -> Any:
        """Credentials for `account_id`: its role, assumed once per run, or the base ones,
        paced and frozen for a minute at a time (see `credentials.ActingAccount`)."""
        if self._roles is None:
            credentials = await self.base_credentials()
        else:
            credentials = await self._roles.credentials(account_id)
        acting = self._acting_accounts.get(account_id)
        if acting is None or acting.credentials is not credentials:
            acting = ActingAccount(account_id, credentials, self._pacer)
            self._acting_accounts[account_id] = acting
        return acting
