"""aiobotocore sessions and clients for one run.

At fleet scale the cost is in clients, not records: building a client costs milliseconds of
CPU (event hooks copied, endpoint rules resolved, a connection pool and TLS context of its
own). So the collector builds one AppFlow client per *region* and shares it between
accounts: the client's credentials resolve, per task, to the credentials of the account
that task is acting as (`credentials.acting_as`). Two sessions: the base one signs with the
caller's own credentials (STS, Organizations), the acting one with the task's account's.
"""

from __future__ import annotations

import logging
import math
from contextlib import AbstractContextManager, AsyncExitStack
from dataclasses import dataclass
from typing import Any

import anyio
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from .bounded import DEFAULT_SCOPE_BUDGET, BoundedHttpSession, ByteBudget, charged_to
from .credentials import acting_resolver
from .lean import RawBodyParserFactory, new_session, sharing_ssl_contexts, user_agent
from .models import shared_models_loader
from .pacing import DEFAULT_ACCOUNT_RATE
from .partitions import has_fips_endpoint

log = logging.getLogger("collector")

# Connections per client of the services called a few times per run (STS, Organizations).
CONTROL_POOL = 10
# Every client's HTTP session class: theirs, with SSL contexts shared (`lean`).
HTTP_SESSION = sharing_ssl_contexts(BoundedHttpSession)


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
    caller_credentials: bool = True
    """Whether the caller's own account is collected with the caller's credentials when its
    member role cannot be assumed."""
    """Bytes of responses one scope may read (see `bounded`)."""


def _keep_timestamps_raw(session: AioSession) -> None:
    # botocore converts every timestamp to a local-time datetime with dateutil: slow, and in
    # the machine's zone. We read timestamps from the raw body instead.
    factory = RawBodyParserFactory()
    factory.set_parser_defaults(timestamp_parser=lambda value: value)
    session.register_component("response_parser_factory", factory)


class AwsClients:
    """The sessions and clients of one run. Use as an async context manager: the clients
    close with it."""

    def __init__(self, options: AwsOptions) -> None:
        self.options = options
        self._stack = AsyncExitStack()
        self.base = new_session()
        """Signs with the caller's own credentials."""
        self._acting = new_session()
        self._acting.register_component("credential_provider", acting_resolver())
        # One loader for both: botocore's endpoint data (7 MB once parsed) is read and kept
        # once per run, not once per session, and the service models once per process
        # (`models`). Lazily, as botocore makes it: creating it reads the AWS config, whose
        # errors the first call reports.
        base = self.base
        self.base.lazy_register_component(
            "data_loader", lambda: shared_models_loader(base.get_config_variable("data_path"))
        )
        self._acting.lazy_register_component(
            "data_loader", lambda: base.get_component("data_loader")
        )
        for session in (self.base, self._acting):
            _keep_timestamps_raw(session)
            # Tokens from the global STS endpoint are refused in opt-in regions.
            session.set_config_variable("sts_regional_endpoints", "regional")
        self._user_agent = user_agent()
        self._clients: dict[tuple[str, str], Any] = {}
        self._without_fips: set[tuple[str, str]] = set()
        self._lock = anyio.Lock()
        self.home_region = "us-east-1"
        """Where STS, Organizations and EC2 are asked (set once the caller is known)."""

    async def __aenter__(self) -> AwsClients:
        await self._stack.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    def config(
        self, max_pool: int, connect_timeout: float | None = None, read_timeout: float | None = None
    ) -> AioConfig:
        # One attempt per call: the collector's own retry layer decides, and counts.
        return AioConfig(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=min(connect_timeout or math.inf, self.options.connect_timeout),
            read_timeout=min(read_timeout or math.inf, self.options.read_timeout),
            max_pool_connections=max_pool,
            http_session_cls=HTTP_SESSION,
            user_agent=self._user_agent,
        )

    def _service_config(self, service: str, region: str, config: AioConfig) -> AioConfig:
        """`config`, without FIPS where the AWS config asks for FIPS but `service` has no
        FIPS endpoint in `region`: botocore would build a host name that does not exist
        (STS's are in four US regions only)."""
        if not self.base.get_config_variable("use_fips_endpoint"):
            return config
        endpoints = self.base.get_component("data_loader").load_data("endpoints")
        if has_fips_endpoint(endpoints, service, region):
            return config
        if (service, region) not in self._without_fips:
            self._without_fips.add((service, region))
            log.warning(
                "%s has no FIPS endpoint in %s: its calls go to the standard endpoint there "
                "(set AWS_REGION to a US region for FIPS %s)",
                service,
                region,
                service,
                extra={"event": "no_fips_endpoint", "service": service, "region": region},
            )
        return config.merge(AioConfig(use_fips_endpoint=False))

    async def base_client(self, service: str, region: str | None = None, **keys: str) -> Any:
        """A client on the base credentials (or on `keys`, a session's keys), closed with
        the run."""
        return await self._stack.enter_async_context(
            self.base.create_client(
                service,
                region_name=region or self.home_region,
                config=self._service_config(
                    service, region or self.home_region, self.config(CONTROL_POOL)
                ),
                **keys,
            )
        )

    async def appflow(self, region: str) -> Any:
        """The shared AppFlow client of `region`; calls must run inside `acting_as`."""
        return await self.acting_client("appflow", region, self.options.concurrency)

    def scope_budget(self) -> AbstractContextManager[None]:
        """Charge the responses this task reads in the block to a new scope's byte budget:
        the read that goes over it fails as `too_large`."""
        return charged_to(ByteBudget(self.options.scope_budget))

    async def acting_client(
        self,
        service: str,
        region: str,
        max_pool: int,
        timeouts: tuple[float, float] | None = None,
    ) -> Any:
        """The shared client of `service` in `region`, signing as the task's account;
        `timeouts` (connect, read) shorter than the run's, for optional look-ups."""
        key = (service, region)
        if key not in self._clients:
            async with self._lock:
                if key not in self._clients:
                    config = self.config(max_pool, *(timeouts or ()))
                    if service == "appflow":
                        # The hot path: `sent.checked_method` checks every request instead,
                        # with rules compiled once. (AppFlow's regions are checked up front.)
                        config = config.merge(AioConfig(parameter_validation=False))
                    else:
                        config = self._service_config(service, region, config)
                    client = await self._stack.enter_async_context(
                        self._acting.create_client(service, region_name=region, config=config)
                    )
                    self._clients[key] = client
        return self._clients[key]
