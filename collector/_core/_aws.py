"""aiobotocore sessions, clients and per-account credentials for one run.

At fleet scale the cost is in clients, not profiles: building a client costs milliseconds of
CPU (event hooks copied, endpoint rules resolved, a connection pool and TLS context of its
own). So the collector builds one AppFlow client per *region* and shares it between
accounts: the client's credentials object resolves, per task, to the credentials of the
account that task is acting as (`acting_as`). Accounts' roles are assumed once each, and
refreshed by botocore's refreshable credentials when they near expiry.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
from aiobotocore.config import AioConfig
from aiobotocore.credentials import (
    AioCredentialResolver,
    AioCredentials,
    AioRefreshableCredentials,
)
from aiobotocore.session import AioSession

from ._errors import AwsError, ConfigError, ErrorKind
from ._retry import Attempts, RetryPolicy, call_with_retries

ROLE_SESSION_NAME = "appflow-inventory"
# botocore refreshes credentials 15 minutes before they expire, so anything shorter than
# that would be refreshed on every call.
ROLE_SESSION_SECONDS = 3600
_RAW_BODY = "CollectorRawBody"

_acting_credentials: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "collector_acting_credentials"
)


@dataclass(frozen=True, slots=True)
class AwsOptions:
    role_name: str | None = None
    external_id: str | None = None
    concurrency: int = 100
    connect_timeout: float = 10.0
    read_timeout: float = 30.0


class _ActingCredentials(AioCredentials):  # type: ignore[misc]
    """Credentials that are whichever account's the current task is acting as."""

    def __init__(self) -> None:
        super().__init__(access_key="", secret_key="", method="collector-acting-as")

    async def get_frozen_credentials(self) -> Any:
        return await _current().get_frozen_credentials()


class _ActingProvider:
    METHOD = "collector-acting-as"
    CANONICAL_NAME = "collector-acting-as"

    async def load(self) -> _ActingCredentials:
        return _ActingCredentials()


def _current() -> Any:
    try:
        return _acting_credentials.get()
    except LookupError:
        raise RuntimeError("AppFlow call made outside acting_as()") from None


@contextmanager
def acting_as(credentials: Any) -> Iterator[None]:
    """Make calls from this task use `credentials` (task-local: each task has its own)."""
    token = _acting_credentials.set(credentials)
    try:
        yield
    finally:
        _acting_credentials.reset(token)


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
        self._acting.register_component(
            "credential_provider", AioCredentialResolver(providers=[_ActingProvider()])
        )
        for session in (self._base, self._acting):
            _keep_timestamps_raw(session)
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = anyio.Lock()
        self._credentials: dict[str, Any] = {}
        self._credential_locks: dict[str, anyio.Lock] = {}
        self._sts: Any = None
        self._regions: dict[str, dict[str, str] | AwsError] = {}
        self._region_locks: dict[str, anyio.Lock] = {}
        # Attempts of the calls around the listings (STS, EC2), for the run's counts.
        self.control_attempts = Attempts()

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
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    async def base_client(self, service: str, region: str = "us-east-1") -> Any:
        """A client on the base credentials (Organizations, and STS for the caller)."""
        return await self._stack.enter_async_context(
            self._base.create_client(service, region_name=region, config=self._config(10))
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
                    if service == "appflow":
                        client.meta.events.register(
                            "before-parse.appflow.DescribeConnectorProfiles", _keep_raw_body
                        )
                    self._clients[key] = client
        return self._clients[key]

    async def region_opt_in_status(self, account_id: str, credentials: Any) -> dict[str, str]:
        """Region name -> `OptInStatus` for an account, looked up once per run.

        Raises the look-up's `AwsError` (remembered too, so it is not retried per region).
        """
        lock = self._region_locks.setdefault(account_id, anyio.Lock())
        async with lock:
            if account_id not in self._regions:
                client = await self._acting_client("ec2", "us-east-1", 10)
                try:
                    with acting_as(credentials):
                        response = await call_with_retries(
                            partial(client.describe_regions, AllRegions=True),
                            self._retry,
                            self.control_attempts,
                        )
                    self._regions[account_id] = {
                        r["RegionName"]: r.get("OptInStatus", "opt-in-not-required")
                        for r in response.get("Regions", [])
                    }
                except AwsError as error:
                    self._regions[account_id] = error
        found = self._regions[account_id]
        if isinstance(found, AwsError):
            raise found
        return found

    async def caller_account(self) -> str:
        """The account id of the base credentials."""
        response = await call_with_retries(
            lambda: self._sts.get_caller_identity(), self._retry, self.control_attempts
        )
        return str(response["Account"])

    async def base_credentials(self) -> Any:
        return await self._base.get_credentials()

    async def account_credentials(self, account_id: str) -> Any:
        """Credentials for `account_id`: its role, assumed once per run, or the base ones.

        A failure is remembered, so an account whose role cannot be assumed costs one
        AssumeRole (with its retries), not one per region.
        """
        if self._options.role_name is None:
            return await self.base_credentials()
        lock = self._credential_locks.setdefault(account_id, anyio.Lock())
        async with lock:
            cached = self._credentials.get(account_id)
            if cached is None:
                try:
                    metadata = await self._assume_role(account_id)
                    cached = AioRefreshableCredentials.create_from_metadata(
                        metadata,
                        refresh_using=lambda: self._assume_role(account_id),
                        method="assume-role",
                    )
                except AwsError as error:
                    cached = error
                self._credentials[account_id] = cached
        if isinstance(cached, AwsError):
            raise cached
        return cached

    async def _assume_role(self, account_id: str) -> dict[str, Any]:
        assert self._options.role_name is not None
        params: dict[str, Any] = {
            "RoleArn": f"arn:aws:iam::{account_id}:role/{self._options.role_name}",
            "RoleSessionName": ROLE_SESSION_NAME,
            "DurationSeconds": ROLE_SESSION_SECONDS,
        }
        if self._options.external_id:
            params["ExternalId"] = self._options.external_id
        try:
            response = await call_with_retries(
                lambda: self._sts.assume_role(**params), self._retry, self.control_attempts
            )
        except AwsError as error:
            if error.kind in (
                ErrorKind.ACCESS_DENIED,
                ErrorKind.VALIDATION_ERROR,
                ErrorKind.UNKNOWN,
            ):
                raise AwsError(
                    ErrorKind.ASSUME_ROLE_FAILED,
                    error.code,
                    f"cannot assume {params['RoleArn']}: {error.message}",
                ) from error
            raise
        credentials = response["Credentials"]
        expiration = credentials["Expiration"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": expiration if isinstance(expiration, str) else expiration.isoformat(),
        }
