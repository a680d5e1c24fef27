"""Which accounts a run covers, and in which regions.

The accounts are an explicit list, the caller's own, or the organization's. Every account
found is returned, and so recorded in `accounts`; those this run does not collect (not
ACTIVE, or left out by `--exclude-accounts` or the OU options) have no regions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from ._aws import AwsClients
from ._errors import AwsError, ConfigError, ErrorKind
from ._retry import Attempts, RetryPolicy, call_with_retries
from ._settings import Settings

ChildrenOf = Callable[[str], Awaitable[tuple[list[str], list[str]]]]
"""Parent (root or OU) id -> (ids of its child OUs, ids of the accounts directly in it)."""

# ListAccounts and the *ForParent operations take at most 20 per page.
ORGANIZATIONS_PAGE = 20


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """One row of `accounts`, and the regions this run lists in it (none: not collected)."""

    account_id: str
    source: str
    name: str | None = None
    email: str | None = None
    state: str | None = None
    regions: tuple[str, ...] = ()

    @property
    def collect(self) -> bool:
        return bool(self.regions)


@dataclass(frozen=True, slots=True)
class OrganizationScope:
    """Which of the organization's accounts a run collects.

    `included` is None when no OU was asked for (every account); exclusion wins over it.
    """

    included: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()

    def collects(self, account: AccountInfo) -> bool:
        return (
            account.state == "ACTIVE"
            and account.account_id not in self.excluded
            and (self.included is None or account.account_id in self.included)
        )


async def resolve_accounts(
    settings: Settings, aws: AwsClients, retry: RetryPolicy
) -> list[AccountInfo]:
    """The accounts of this run in a stable order, each with the regions to list in it."""
    if settings.organization:
        return await _organization(settings, aws, retry)
    if settings.accounts:
        if not settings.role_name:
            caller = await aws.caller_account()
            if settings.accounts != (caller,):
                raise ConfigError(
                    f"account {settings.accounts[0]} is not the current credentials' account "
                    f"({caller}); give --role-name to assume a role in it"
                )
        found = [AccountInfo(account, "explicit") for account in settings.accounts]
    else:
        found = [AccountInfo(await aws.caller_account(), "caller")]
    excluded = frozenset(settings.exclude_accounts)
    return [with_regions(a, settings, a.account_id not in excluded) for a in found]


def with_regions(account: AccountInfo, settings: Settings, collect: bool) -> AccountInfo:
    """`account` with the regions it is listed in: its own override, or `--regions`."""
    return replace(account, regions=settings.regions_for(account.account_id) if collect else ())


async def _organization(
    settings: Settings, aws: AwsClients, retry: RetryPolicy
) -> list[AccountInfo]:
    calls = OrganizationCalls(
        await aws.base_client("organizations"),
        retry,
        aws.control_attempts,
        given=frozenset(settings.organizational_units + settings.exclude_organizational_units),
    )
    accounts = await organization_accounts(calls)
    scope = await organization_scope(settings, calls.children)
    return [with_regions(a, settings, scope.collects(a)) for a in accounts]


async def organization_scope(settings: Settings, children: ChildrenOf) -> OrganizationScope:
    """The accounts the OU options and `--exclude-accounts` let in and keep out."""
    included = None
    if settings.organizational_units:
        included = await accounts_under(settings.organizational_units, children)
    excluded = await accounts_under(settings.exclude_organizational_units, children)
    return OrganizationScope(included, excluded | frozenset(settings.exclude_accounts))


async def accounts_under(parents: Iterable[str], children: ChildrenOf) -> frozenset[str]:
    """The accounts directly in `parents` and in every OU below them, at any depth.

    Each parent is listed once, however often it is reached (an OU named along with one of
    its ancestors).
    """
    accounts: set[str] = set()
    seen: set[str] = set()
    pending = list(parents)
    while pending:
        parent = pending.pop()
        if parent in seen:
            continue
        seen.add(parent)
        child_ous, direct = await children(parent)
        accounts.update(direct)
        pending.extend(child_ous)
    return frozenset(accounts)


class OrganizationCalls:
    """The Organizations calls of one run: every page, the run's retry policy, counted.

    `given` holds the OU and root ids the user named: if one of those does not exist it is
    a configuration error, while an OU found by the walk that vanishes is a failed call.
    """

    def __init__(
        self, client: Any, retry: RetryPolicy, counter: Attempts, given: frozenset[str]
    ) -> None:
        self._client = client
        self._retry = retry
        self._counter = counter
        self._given = given
        # Included and excluded OUs may overlap (an OU excluded inside an included one).
        self._children: dict[str, tuple[list[str], list[str]]] = {}

    async def all_pages(self, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item under `key` of every page of `operation`."""
        items: list[dict[str, Any]] = []
        tokens: set[str] = set()
        token: str | None = None
        while True:
            request = {**params, "MaxResults": ORGANIZATIONS_PAGE}
            if token:
                request["NextToken"] = token
            call = partial(getattr(self._client, operation), **request)
            page = await call_with_retries(call, self._retry, self._counter)
            items.extend(page.get(key, []))
            token = page.get("NextToken")
            if not token:
                return items
            if token in tokens:
                # A token handed back twice would make this loop forever.
                message = f"{operation} returned the same NextToken twice"
                raise AwsError(ErrorKind.INVALID_RESPONSE, "RepeatedNextToken", message)
            tokens.add(token)

    async def children(self, parent: str) -> tuple[list[str], list[str]]:
        """The child OUs and the accounts directly under `parent` (remembered per run)."""
        if parent not in self._children:
            try:
                ous = await self.all_pages(
                    "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent
                )
                accounts = await self.all_pages(
                    "list_accounts_for_parent", "Accounts", ParentId=parent
                )
            except AwsError as error:
                if error.code == "ParentNotFoundException" and parent in self._given:
                    raise ConfigError(
                        f"{parent} is not an OU or the root of this organization"
                    ) from None
                raise AwsError(
                    error.kind, error.code, f"cannot list what is in {parent}: {error.message}"
                ) from error
            self._children[parent] = ([str(o["Id"]) for o in ous], [str(a["Id"]) for a in accounts])
        return self._children[parent]


async def organization_accounts(calls: OrganizationCalls) -> list[AccountInfo]:
    """Every account of the organization (all pages), without regions yet.

    `Status` is retired in favour of `State`; older responses without `State` fall back to it.
    """
    try:
        listed = await calls.all_pages("list_accounts", "Accounts")
    except AwsError as error:
        raise AwsError(
            error.kind, error.code, f"cannot list the organization's accounts: {error.message}"
        ) from error
    found = [
        AccountInfo(
            account_id=str(account["Id"]),
            source="organization",
            name=account.get("Name"),
            email=account.get("Email"),
            state=account.get("State") or account.get("Status"),
        )
        for account in listed
    ]
    return sorted(found, key=lambda a: a.account_id)
