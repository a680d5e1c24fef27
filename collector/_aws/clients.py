"""aiobotocore sessions and clients for one run, and the credentials each call uses.

At fleet scale the cost is in clients, not profiles: building a client costs milliseconds of
CPU (event hooks copied, endpoint rules resolved, a connection pool and TLS context of its
own). So the collector builds one AppFlow client per *region* and shares it between
accounts: the client's credentials resolve, per task, to the credentials of the account
that task is acting as (`credentials.acting_as`).
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import anyio
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from .._errors import ConfigError
from .credentials import AssumedRoles, acting_resolver
from .organization_role import organization_role_keys
from .regions import RegionStatus
from .retry import Attempts, RetryPolicy, call_with_retries

_RAW_BODY = "CollectorRawBody"
# Operations whose answer is read from the body as AWS sent it (see `raw_body`).
_RAW_OPERATIONS = ("before-parse.appflow.DescribeConnectorProfiles",)


@dataclass(frozen=True, slots=True)
class AwsOptions:
    role_name: str | None = None
    external_id: str | None = None
    concurrency: int = 100
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    organization_role_arn: str | None = None


def _keep_raw_body(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    # The JSON as AWS sent it: botocore's parser drops members it does not know.
    if response_dict.get("status_code", 500) < 300:
        customized_response_dict[_RAW_BODY] = response_dict.get("body")


def raw_body(response: dict[str, Any]) -> bytes | None:
    """The undecoded body of a successful call made through an `AwsClients` AppFlow client."""
    body = response.get(_RAW_BODY)
    return bytes(body) if isinstance(body, bytes | bytearray) else None


def _keep_timestamps_raw(session: AioSession) -> None:
    # botocore converts every timestamp to a local-time datetime with dateutil: slow, and in
    # the machine's zone. We read timestamps from the raw body instead.
    session.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=lambda value: value
    )


class AwsClients:
    """The clients and credentials of one run. Use as an async context manager."""

    def __init__(self, options: AwsOptions, retry: RetryPolicy) -> None:
        self._options = options
        self._retry = retry
        self._stack = AsyncExitStack()
        self._base = AioSession()
        self._acting = AioSession()
        self._acting.register_component("credential_provider", acting_resolver())
        for session in (self._base, self._acting):
            _keep_timestamps_raw(session)
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = anyio.Lock()
        self._sts: Any = None
        self._roles: AssumedRoles | None = None
        # Attempts of the calls around the listings (STS, EC2), for the run's counts.
        self.control_attempts = Attempts()
        self._regions = RegionStatus(
            lambda: self._acting_client("ec2", "us-east-1", 10), retry, self.control_attempts
        )

    def _config(self, max_pool: int) -> AioConfig:
        # One attempt per call: the collector's own retry layer decides, and counts.
        return AioConfig(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=self._options.connect_timeout,
            read_timeout=self._options.read_timeout,
            max_pool_connections=max_pool,
        )

    async def __aenter__(self) -> AwsClients:
        await self._stack.__aenter__()
        if await self._base.get_credentials() is None:
            await self._stack.aclose()
            raise ConfigError(
                "no AWS credentials found (environment, shared config, SSO or instance role)"
            )
        region = self._base.get_config_variable("region") or "us-east-1"
        self._sts = await self._stack.enter_async_context(
            self._base.create_client("sts", region_name=region, config=self._config(10))
        )
        if self._options.role_name is not None:
            self._roles = AssumedRoles(
                self._sts,
                self._options.role_name,
                self._options.external_id,
                self._retry,
                self.control_attempts,
            )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    async def base_client(self, service: str, region: str = "us-east-1") -> Any:
        """A client on the base credentials (Organizations, and STS for the caller)."""
        return await self._stack.enter_async_context(
            self._base.create_client(service, region_name=region, config=self._config(10))
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
                "organizations", region_name="us-east-1", config=self._config(10), **keys
            )
        )

    async def appflow(self, region: str) -> Any:
        """The shared AppFlow client of `region`; calls must run inside `acting_as`."""
        return await self._acting_client("appflow", region, self._options.concurrency)

    async def _acting_client(self, service: str, region: str, max_pool: int) -> Any:
        key = (service, region)
        if key not in self._clients:
            async with self._clients_lock:
                if key not in self._clients:
                    client = await self._stack.enter_async_context(
                        self._acting.create_client(
                            service, region_name=region, config=self._config(max_pool)
                        )
                    )
                    for event in _RAW_OPERATIONS:
                        if event.split(".")[1] == service:
                            client.meta.events.register(event, _keep_raw_body)
                    self._clients[key] = client
        return self._clients[key]

    async def region_opt_in_status(self, account_id: str, credentials: Any) -> dict[str, str]:
        """Region name -> `OptInStatus` for an account, looked up once per run."""
        return await self._regions.opt_in_status(account_id, credentials)

    async def caller_account(self) -> str:
        """The account id of the base credentials."""
        response = await call_with_retries(
            lambda: self._sts.get_caller_identity(), self._retry, self.control_attempts
        )
        return str(response["Account"])

    async def base_credentials(self) -> Any:
        return await self._base.get_credentials()

    async def account_credentials(self, account_id: str) -> Any:
        """Credentials for `account_id`: its role, assumed once per run, or the base ones."""
        if self._roles is None:
            return await self.base_credentials()
        return await self._roles.credentials(account_id)
