"""Organizations: every account of the organization, and what each OU holds.

Every call pages to the end, goes through the run's retry policy and is counted.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from .._errors import AwsError, ConfigError, ErrorKind
from .._model.organization import AccountInfo, is_account_id
from .retry import Attempts, RetryPolicy, call_with_retries

log = logging.getLogger("collector")

# ListAccounts and the *ForParent operations take at most 20 per page.
ORGANIZATIONS_PAGE = 20
# A bound on pages per listing, empty ones included (Organizations may send empty pages
# that still carry a NextToken): 50,000 accounts, beyond any organization's quota.
MAX_ORGANIZATION_PAGES = 2500


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
        name = "".join(part.title() for part in operation.split("_"))  # as AWS names it
        items: list[dict[str, Any]] = []
        tokens: set[str] = set()
        token: str | None = None
        for _ in range(MAX_ORGANIZATION_PAGES):
            request = {**params, "MaxResults": ORGANIZATIONS_PAGE}
            if token:
                request["NextToken"] = token
            # A throttled page is retried with its own token: the listing resumes, it never
            # starts over.
            call = partial(getattr(self._client, operation), **request)
            page = await call_with_retries(call, self._retry, self._counter)
            found = page.get(key, [])
            if not all(
                isinstance(item, dict) and isinstance(item.get("Id"), str) for item in found
            ):
                message = f"{name} returned an item without an Id"
                raise AwsError(ErrorKind.INVALID_RESPONSE, "InvalidResponse", message)
            if len(found) > ORGANIZATIONS_PAGE:
                message = (
                    f"{operation} returned {len(found)} items for at most {ORGANIZATIONS_PAGE}"
                )
                raise AwsError(ErrorKind.INVALID_RESPONSE, "TooManyItems", message)
            items.extend(found)
            token = page.get("NextToken")
            if not token:
                return items
            if token in tokens:
                # A token handed back twice would make this loop forever.
                message = f"{name} returned the same NextToken twice"
                raise AwsError(ErrorKind.INVALID_RESPONSE, "RepeatedNextToken", message)
            tokens.add(token)
        message = f"{name} returned more than {MAX_ORGANIZATION_PAGES} pages"
        raise AwsError(ErrorKind.INVALID_RESPONSE, "TooManyPages", message)

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
        if _valid(account["Id"])
    ]
    return sorted(found, key=lambda a: a.account_id)


def _valid(account_id: str) -> bool:
    """Whether an Id from Organizations is an account id; if not, that account is left
    out with a warning (it would be stored, shown and put in role ARNs as it came)."""
    if is_account_id(account_id):
        return True
    log.warning(
        "Organizations listed an account whose Id %r is not 12 digits; it is not collected",
        account_id[:40],
        extra={"event": "invalid_account_id"},
    )
    return False
