"""The preflight (`collector check`): everything a run needs, tried without collecting.

The base credentials and the caller; the accounts (Organizations, and the OUs it walks);
the member role in each account, or in a sample of them; one call of each resource's
listing per account, in one region; the database, reachable and at a schema a run can use.
Nothing is listed past one item, nothing is written, and every check runs even when an
earlier one failed, so one pass shows everything to fix. Failures are grouped by cause.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import anyio

from .._aws import Attempts, Aws, RetryPolicy, acting_as, open_aws, probe_listing
from .._config import Settings
from .._errors import AwsError, CollectorError, ConfigError, DatabaseError
from .._model.failures import Example, FailureTally
from .._model.organization import AccountInfo
from .._model.regions import is_opt_in
from .._model.resource import Resource
from .._model.run import ExitCode
from .._store import DatabaseStatus, database_status
from .accounts import resolve_accounts
from .collect import _aws_options, _checked_against_aws
from .plan import Caller, PlannedAccount, left_out

log = logging.getLogger("collector.run")

# Accounts tried at once: each costs an AssumeRole and a call per resource.
CHECK_CONCURRENCY = 20


@dataclass(slots=True)
class AccountCheck:
    """What was tried in one account: its role, and each resource's listing in a region."""

    account_id: str
    region: str
    role: AwsError | None = None
    listings: dict[Resource, AwsError | None] = field(default_factory=dict)


@dataclass(slots=True)
class CheckReport:
    """Every check's outcome; `exit_code` is what a run would most likely end with."""

    resources: tuple[Resource, ...]
    role_name: str | None
    caller: Caller | None = None
    aws_error: str | None = None
    """Why AWS could not be used at all (credentials, partition, regions, STS)."""
    aws_exit: ExitCode = ExitCode.OK
    accounts: list[PlannedAccount] = field(default_factory=list)
    accounts_error: str | None = None
    walked: tuple[str, ...] = ()
    """The OUs and roots the account discovery listed."""
    checked: list[AccountCheck] = field(default_factory=list)
    roles: FailureTally = field(default_factory=FailureTally)
    stood_in: str | None = None
    """The caller's own account, read with the caller's credentials for want of the role."""
    listings: dict[Resource, FailureTally] = field(default_factory=dict)
    database: DatabaseStatus | None = None
    database_error: str | None = None

    @property
    def listed(self) -> list[PlannedAccount]:
        return [a for a in self.accounts if a.regions]

    @property
    def exit_code(self) -> ExitCode:
        """As `run`'s: 2 for what stops a run at once, 3 for the database (or STS), 1 when
        accounts or listings would fail, else 0."""
        if self.aws_exit != ExitCode.OK:
            return self.aws_exit
        if self.database_error is not None or (self.database and not self.database.usable):
            return ExitCode.CANNOT_RUN
        failed = self.accounts_error or any(
            tally.failed for tally in (self.roles, *self.listings.values())
        )
        return ExitCode.PARTIAL if failed else ExitCode.OK


async def check(
    settings: Settings, *, sample: int | None = None, retry: RetryPolicy | None = None
) -> CheckReport:
    """Try what a run with `settings` needs, checking `sample` accounts (None: all)."""
    report = CheckReport(settings.listed_resources, settings.role_name)
    report.listings = {resource: FailureTally() for resource in report.resources}
    retry = retry or RetryPolicy(max_attempts=settings.max_attempts)
    try:
        async with open_aws(_aws_options(settings), retry) as aws:
            settings = _checked_against_aws(settings, aws)
            identity = aws.identity
            report.caller = Caller(identity.account_id, identity.partition, identity.home_region)
            await _check_accounts(report, settings, aws, sample)
    except ConfigError as error:
        report.aws_error, report.aws_exit = str(error), ExitCode.USAGE
    except AwsError as error:
        report.aws_error, report.aws_exit = str(error), ExitCode.CANNOT_RUN
    try:
        report.database = await database_status(settings.database_url, settings.schema)
    except DatabaseError as error:
        report.database_error = str(error)
    return report


async def _check_accounts(
    report: CheckReport, settings: Settings, aws: Aws, sample: int | None
) -> None:
    walked: list[str] = []
    try:
        found = await resolve_accounts(settings, _walking(aws, walked))
    except AwsError as error:
        report.accounts_error = str(error)
        return
    finally:
        report.walked = tuple(dict.fromkeys(walked))
    report.accounts = [PlannedAccount(a, left_out(a, settings)) for a in found.accounts]
    chosen = sampled([a.account for a in report.listed], sample)
    log.info(
        "checking %d of %d accounts",
        len(chosen),
        len(report.listed),
        extra={"event": "check_planned", "accounts": len(chosen)},
    )
    limit = anyio.CapacityLimiter(max(1, min(settings.concurrency, CHECK_CONCURRENCY)))

    async def one(account: AccountInfo) -> None:
        async with limit:
            report.checked.append(await _check_account(aws, account, report.resources))

    async with anyio.create_task_group() as group:
        for account in chosen:
            group.start_soon(one, account)
    report.checked.sort(key=lambda c: c.account_id)
    report.stood_in = aws.credentials.stood_in
    for checked in report.checked:
        _tally(report, checked)


class _WalkingAws(Aws):
    """`Aws` whose Organizations client notes each OU and root the account discovery lists."""

    walked: list[str]

    async def organizations_client(self) -> Any:
        return _NotingClient(await super().organizations_client(), self.walked)


def _walking(aws: Aws, walked: list[str]) -> _WalkingAws:
    walking = _WalkingAws(**{f.name: getattr(aws, f.name) for f in fields(Aws)})
    walking.walked = walked
    return walking


class _NotingClient:
    def __init__(self, client: Any, walked: list[str]) -> None:
        self._client = client
        self._walked = walked

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not name.endswith("_for_parent"):
            return method

        async def noted(**params: Any) -> Any:
            self._walked.append(str(params.get("ParentId")))
            return await method(**params)

        return noted


def sampled(accounts: Sequence[AccountInfo], sample: int | None) -> list[AccountInfo]:
    """`sample` accounts spread evenly over `accounts` (all of them when None or more)."""
    if sample is None or sample >= len(accounts):
        return list(accounts)
    step = len(accounts) / sample
    return [accounts[int(i * step)] for i in range(sample)]


def probe_region(account: AccountInfo, home: str) -> str:
    """The region a check lists in: the caller's home region if the account is listed
    there, else its first region every account has, else its first."""
    if home in account.regions:
        return home
    return next((r for r in account.regions if not is_opt_in(r)), account.regions[0])


async def _check_account(
    aws: Aws, account: AccountInfo, resources: Sequence[Resource]
) -> AccountCheck:
    region = probe_region(account, aws.identity.home_region)
    checked = AccountCheck(account.account_id, region)
    try:
        credentials = await aws.credentials.for_account(account.account_id)
    except AwsError as error:
        checked.role = error
        return checked
    client = await aws.clients.appflow(region)
    for resource in resources:
        try:
            with acting_as(credentials), aws.clients.scope_budget():
                await probe_listing(client, resource, aws.retry, Attempts())
        except AwsError as error:
            checked.listings[resource] = error
        else:
            checked.listings[resource] = None
    return checked


def _tally(report: CheckReport, checked: AccountCheck) -> None:
    where = (checked.account_id, checked.region)
    report.roles.accounts.add(checked.account_id)
    if checked.role is not None:
        report.roles.add_failure(
            "failed", checked.role.kind.value, checked.role.code, _example(where, checked.role)
        )
        return
    for resource, error in checked.listings.items():
        tally = report.listings[resource]
        tally.accounts.add(checked.account_id)
        if error is not None:
            tally.add_failure("failed", error.kind.value, error.code, _example(where, error))


def _example(where: tuple[str, str], error: CollectorError) -> Example:
    message = error.message if isinstance(error, AwsError) else str(error)
    return Example(where[0], where[1], message or str(error))
