"""Which accounts a run covers, and in which regions.

The accounts are an explicit list, the caller's own, or the organization's. Every account
found is returned, and so recorded in `accounts`; those this run does not collect (not
ACTIVE, or left out by `--exclude-accounts` or the OU options) have no regions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .._aws import Aws, OrganizationCalls, organization_accounts
from .._config import Settings
from .._errors import ConfigError
from .._model.organization import AccountInfo, ChildrenOf, OrganizationScope, accounts_under


@dataclass(frozen=True, slots=True)
class Discovery:
    """The accounts of a run, each with the regions to list in it, in a stable order."""

    accounts: list[AccountInfo]
    organization: OrganizationScope | None = None
    """How the run scopes the organization, when `accounts` are all of its accounts, listed
    completely: only then can an account be known to have left."""


async def resolve_accounts(settings: Settings, aws: Aws) -> Discovery:
    """The accounts of this run; `AwsError` if the organization cannot be listed."""
    if settings.organization:
        return await _organization(settings, aws)
    if settings.accounts:
        if not settings.role_name:
            caller = aws.identity.account_id
            if settings.accounts != (caller,):
                raise ConfigError(
                    f"account {settings.accounts[0]} is not the current credentials' account "
                    f"({caller}); give --role-name to assume a role in it"
                )
        found = [AccountInfo(account, "explicit") for account in settings.accounts]
    else:
        found = [AccountInfo(aws.identity.account_id, "caller")]
    excluded = frozenset(settings.exclude_accounts)
    return Discovery([with_regions(a, settings, a.account_id not in excluded) for a in found])


def with_regions(account: AccountInfo, settings: Settings, collect: bool) -> AccountInfo:
    """`account` with the regions it is listed in: its own override, or `--regions`."""
    return replace(account, regions=settings.regions_for(account.account_id) if collect else ())


async def _organization(settings: Settings, aws: Aws) -> Discovery:
    calls = OrganizationCalls(
        await aws.organizations_client(),
        aws.control_retry,
        aws.control_attempts,
        given=frozenset(settings.organizational_units + settings.exclude_organizational_units),
    )
    accounts = await organization_accounts(calls)
    scope = await organization_scope(settings, calls.children)
    return Discovery([with_regions(a, settings, scope.collects(a)) for a in accounts], scope)


async def organization_scope(settings: Settings, children: ChildrenOf) -> OrganizationScope:
    """The accounts the OU options and `--exclude-accounts` let in and keep out."""
    included = None
    if settings.organizational_units:
        included = await accounts_under(settings.organizational_units, children)
    excluded = await accounts_under(settings.exclude_organizational_units, children)
    return OrganizationScope(included, excluded | frozenset(settings.exclude_accounts))
