"""Who the collector runs as: the base credentials, resolved and checked before a run.

The base credentials are resolved at once (an SSO session that is not logged in is one
line, not a traceback at the first call), and one `sts:GetCallerIdentity` names the caller's
account and partition. A run that cannot start for an AWS reason stops here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import AwsError, ConfigError, ErrorKind
from .clients import AwsClients
from .errors import credential_error
from .partitions import partition_of
from .retry import Attempts, RetryPolicy, call_with_retries


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """The caller, as STS named it, and where its control-plane calls go."""

    account_id: str
    partition: str
    home_region: str
    fips: bool
    sts: Any
    """The STS client of the home region, on the base credentials."""


async def identify(clients: AwsClients, retry: RetryPolicy, counter: Attempts) -> CallerIdentity:
    """Resolve and check the base credentials; `ConfigError` if they are unusable."""
    session = clients.base
    profile = session.profile
    try:
        credentials = await session.get_credentials()
        if credentials is None:
            raise ConfigError(
                "no AWS credentials found (environment, shared config, SSO or instance role)"
            )
        # Resolve now: an SSO session that is not logged in must stop the run here.
        await credentials.get_frozen_credentials()
        region = session.get_config_variable("region")
        fips = bool(session.get_config_variable("use_fips_endpoint"))
    except ConfigError:
        raise
    except Exception as exc:
        error = credential_error(exc, profile, _sso_session(session, profile))
        if error is None:
            raise
        raise error from None
    clients.home_region = region or clients.options.home_region or "us-east-1"
    sts = await clients.base_client("sts")
    identity = await _caller_identity(sts, clients.home_region, retry, counter)
    return CallerIdentity(
        account_id=str(identity["Account"]),
        partition=partition_of(str(identity.get("Arn", ""))),
        home_region=clients.home_region,
        fips=fips,
        sts=sts,
    )


def _sso_session(session: Any, profile: str | None) -> str | None:
    """The `sso_session` the profile in use names, if any (to name it in the fix)."""
    try:
        config = session.full_config.get("profiles", {}).get(profile or "default", {})
    except Exception:  # the config is what failed to load: nothing to name
        return None
    name = config.get("sso_session")
    return str(name) if name else None


async def _caller_identity(
    sts: Any, region: str, retry: RetryPolicy, counter: Attempts
) -> dict[str, Any]:
    try:
        response: dict[str, Any] = await call_with_retries(
            lambda: sts.get_caller_identity(), retry, counter
        )
    except AwsError as error:
        if error.kind in (ErrorKind.ACCESS_DENIED, ErrorKind.CREDENTIALS_EXPIRED):
            raise ConfigError(
                f"STS in {region} refused the AWS credentials ({error}); "
                "renew them, or set AWS_REGION to a region of their partition"
            ) from None
        raise
    return response
