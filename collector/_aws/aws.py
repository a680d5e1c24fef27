"""Everything a run asks of AWS, by job, opened and checked before the run starts.

`open_aws` resolves the base credentials and the caller (`identity`), reads the partition's
regions and model (`catalog`), and readies each account's credentials (`credentials`), the
optional EC2 opt-in look-up (`opt_in`) and the clients (`clients`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from .catalog import AwsCatalog
from .clients import AwsClients, AwsOptions
from .credentials import AccountCredentials, AssumedRoles, MemberRole
from .identity import CallerIdentity, identify
from .organization_role import organization_role_keys
from .pacing import AccountPacer
from .regions import RegionStatus
from .retry import Attempts, RetryPolicy

# The optional EC2 look-up must never hold a run up for long: (connect, read) seconds.
_EC2_TIMEOUTS = (3.0, 5.0)


@dataclass(slots=True)
class Aws:
    """One run's view of AWS."""

    clients: AwsClients
    identity: CallerIdentity
    catalog: AwsCatalog
    credentials: AccountCredentials
    opt_in: RegionStatus
    retry: RetryPolicy
    control_retry: RetryPolicy
    """Organizations, STS and EC2 have low request limits: more patience with throttling."""
    control_attempts: Attempts
    """Attempts of the calls around the listings (STS, Organizations, EC2), for the run's
    counts."""

    async def organizations_client(self) -> Any:
        """The Organizations client: on the base credentials, or as the organization role
        (assumed from the base credentials) if one is set. Raises `AwsError`."""
        role_arn = self.clients.options.organization_role_arn
        if role_arn is None:
            return await self.clients.base_client("organizations")
        keys = await organization_role_keys(
            self.identity.sts, role_arn, self.retry, self.control_attempts
        )
        return await self.clients.base_client("organizations", **keys)


@asynccontextmanager
async def open_aws(options: AwsOptions, retry: RetryPolicy) -> AsyncIterator[Aws]:
    """AWS for one run; raises `ConfigError` if the base credentials or the caller are
    unusable, `AwsError` if STS cannot be reached."""
    control_retry = retry.for_control_plane()
    counter = Attempts()
    async with AwsClients(options) as clients:
        identity = await identify(clients, control_retry, counter)
        roles = None
        if options.role_name is not None:
            role = MemberRole(options.role_name, options.external_id, identity.partition)
            roles = AssumedRoles(identity.sts, role, control_retry, counter)

        async def ec2() -> Any:
            return await clients.acting_client("ec2", clients.home_region, 10, _EC2_TIMEOUTS)

        yield Aws(
            clients=clients,
            identity=identity,
            catalog=await AwsCatalog.load(clients.base, identity.partition, identity.fips),
            credentials=AccountCredentials(
                clients.base,
                roles,
                AccountPacer(options.account_rate, clock=retry.now, sleep=retry.sleep),
                identity.account_id if options.caller_credentials else None,
            ),
            opt_in=RegionStatus(ec2, retry, counter),
            retry=retry,
            control_retry=control_retry,
            control_attempts=counter,
        )
