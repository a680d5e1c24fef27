"""Which of an organization's accounts a run collects. Pure: the OU walk's I/O is passed in."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

ChildrenOf = Callable[[str], Awaitable[tuple[list[str], list[str]]]]
"""Parent (root or OU) id -> (ids of its child OUs, ids of the accounts directly in it)."""

# Twelve ASCII digits, leading zeros included (Python's \d would take other scripts' digits).
_ACCOUNT_ID = re.compile(r"[0-9]{12}")


def is_account_id(value: object) -> bool:
    """Whether `value` is an AWS account id: a string of exactly 12 digits."""
    return isinstance(value, str) and _ACCOUNT_ID.fullmatch(value) is not None


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


CLOSED = "account_closed"
LEFT = "account_left"
LEFT_STATE = "LEFT"
"""`accounts.state` of an account a complete listing no longer shows (`left_at` says when)."""


def departures(
    listed: Iterable[AccountInfo],
    members: Iterable[str],
    scope: OrganizationScope,
    owned: Callable[[str], bool] = lambda account_id: True,
) -> dict[str, str]:
    """The accounts whose records go, from a complete listing of the organization: account
    id -> `account_closed` (listed, no longer ACTIVE) or `account_left` (a recorded member
    the listing no longer shows).

    Only a listing of the whole organization can say an account left: with OUs to include
    (`scope.included`) nothing goes. Excluded accounts never go, nor accounts another shard
    owns (`owned`).
    """
    if scope.included is not None:
        return {}
    gone: dict[str, str] = {}
    seen: set[str] = set()
    for account in listed:
        seen.add(account.account_id)
        if account.state != "ACTIVE":
            gone[account.account_id] = CLOSED
    for account_id in members:
        if account_id not in seen:
            gone[account_id] = LEFT
    return {a: why for a, why in gone.items() if a not in scope.excluded and owned(a)}
