"""Which accounts a run covers: an explicit list, the caller's own, or the organization's."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from ._aws import AwsClients
from ._errors import AwsError, ConfigError
from ._retry import Attempts, RetryPolicy, call_with_retries
from ._settings import Settings


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """One row of `accounts`; `collect` says whether this run lists its profiles."""

    account_id: str
    source: str
    name: str | None = None
    email: str | None = None
    state: str | None = None
    collect: bool = True


async def resolve_accounts(
    settings: Settings, aws: AwsClients, retry: RetryPolicy
) -> list[AccountInfo]:
    """The accounts of this run, in a stable order."""
    if settings.organization:
        return await organization_accounts(aws, retry)
    if settings.accounts:
        if not settings.role_name:
            caller = await aws.caller_account()
            if settings.accounts != (caller,):
                raise ConfigError(
                    f"account {settings.accounts[0]} is not the current credentials' account "
                    f"({caller}); give --role-name to assume a role in it"
                )
        return [AccountInfo(account, "explicit") for account in settings.accounts]
    return [AccountInfo(await aws.caller_account(), "caller")]


async def organization_accounts(aws: AwsClients, retry: RetryPolicy) -> list[AccountInfo]:
    """Every account of the organization (all pages); only ACTIVE ones are collected.

    `Status` is retired in favour of `State`; older responses without `State` fall back to it.
    """
    client = await aws.base_client("organizations")
    found: list[AccountInfo] = []
    token: str | None = None
    counter = Attempts()
    while True:
        params: dict[str, Any] = {"MaxResults": 20}
        if token:
            params["NextToken"] = token
        try:
            page = await call_with_retries(partial(client.list_accounts, **params), retry, counter)
        except AwsError as error:
            raise AwsError(
                error.kind, error.code, f"cannot list the organization's accounts: {error.message}"
            ) from error
        for account in page.get("Accounts", []):
            state = account.get("State") or account.get("Status")
            found.append(
                AccountInfo(
                    account_id=str(account["Id"]),
                    source="organization",
                    name=account.get("Name"),
                    email=account.get("Email"),
                    state=state,
                    collect=state == "ACTIVE",
                )
            )
        token = page.get("NextToken")
        if not token:
            break
    return sorted(found, key=lambda a: a.account_id)
