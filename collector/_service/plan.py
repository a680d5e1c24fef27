"""What a run would collect, found without listing anything (`collector run --dry-run`).

The plan asks AWS what a run asks before it lists: the caller (STS), the partition's
regions, and the accounts (Organizations, when the run discovers them). It touches neither
AppFlow nor the database.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .._aws import RetryPolicy, open_aws
from .._config import Settings, redact
from .._errors import AwsError
from .._model.organization import AccountInfo
from .._model.regions import is_opt_in
from .._model.resource import Resource
from .accounts import resolve_accounts
from .collect import _aws_options, _checked_against_aws


@dataclass(frozen=True, slots=True)
class Caller:
    """Who the run would be: the base credentials' account, and where it asks STS."""

    account_id: str
    partition: str
    home_region: str


@dataclass(frozen=True, slots=True)
class PlannedAccount:
    """One account a run would find, and whether (and where) it would be listed."""

    account: AccountInfo
    left_out: str | None = None
    """Why the run would not list it (None: it would)."""

    @property
    def regions(self) -> tuple[str, ...]:
        return () if self.left_out else self.account.regions


@dataclass(slots=True)
class RunPlan:
    """The accounts, regions and scopes a run would list, and what it would leave out."""

    caller: Caller
    database: str
    """The database the run would write, its password masked."""
    resources: tuple[Resource, ...]
    filtered: bool
    accounts: list[PlannedAccount] = field(default_factory=list)
    error: str | None = None
    """Why the accounts could not be found (the run would fail the same way)."""

    @property
    def listed(self) -> list[PlannedAccount]:
        return [a for a in self.accounts if a.regions]

    @property
    def scopes(self) -> int:
        return sum(len(a.regions) for a in self.accounts)

    @property
    def regions(self) -> Counter[str]:
        """Scopes per region."""
        return Counter(region for a in self.accounts for region in a.regions)

    @property
    def opt_in_scopes(self) -> int:
        """Scopes in opt-in regions: skipped where the account has not enabled the region
        (known only once listed)."""
        return sum(count for region, count in self.regions.items() if is_opt_in(region))

    @property
    def states(self) -> Counter[str]:
        """Accounts by state (`ACTIVE`, `SUSPENDED`, ...; `-` when the source has none)."""
        return Counter(a.account.state or "-" for a in self.accounts)

    @property
    def left_out(self) -> Counter[str]:
        """Accounts the run would not list, by reason."""
        return Counter(a.left_out for a in self.accounts if a.left_out)


async def plan_run(settings: Settings, retry: RetryPolicy | None = None) -> RunPlan:
    """What `collector run` with `settings` would collect. Raises `ConfigError` (exit 2)
    or `AwsError` (STS unreachable) as the run would; a failed account discovery is the
    plan's `error`."""
    retry = retry or RetryPolicy(max_attempts=settings.max_attempts)
    async with open_aws(_aws_options(settings), retry) as aws:
        settings = _checked_against_aws(settings, aws)
        identity = aws.identity
        plan = RunPlan(
            Caller(identity.account_id, identity.partition, identity.home_region),
            redact(settings.database_url),
            settings.listed_resources,
            settings.filtered,
        )
        try:
            found = await resolve_accounts(settings, aws)
        except AwsError as error:
            plan.error = str(error)
            return plan
    plan.accounts = [PlannedAccount(a, left_out(a, settings)) for a in found.accounts]
    return plan


def left_out(account: AccountInfo, settings: Settings) -> str | None:
    """Why a run would not list `account`, or None if it would."""
    if settings.shard is not None and not settings.shard.owns(account.account_id):
        return f"another shard than {settings.shard}"
    if account.collect:
        return None
    if account.state not in (None, "ACTIVE"):
        return f"state {account.state}"
    if account.account_id in settings.exclude_accounts:
        return "--exclude-accounts"
    if settings.organizational_units or settings.exclude_organizational_units:
        return "outside --organizational-units or under --exclude-organizational-units"
    return "not collected"
