"""Whose credentials a call is signed with: the task's account, resolved per call.

The collector shares one client per region between accounts (clients are costly to build),
so a client's credentials object cannot be one account's. It is `_ActingCredentials`,
which resolves on every call to the credentials the current task acts as (`acting_as`, a
context variable: each task has its own).
"""

from __future__ import annotations

import contextvars
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
from aiobotocore.credentials import (
    AioCredentialResolver,
    AioCredentials,
    AioRefreshableCredentials,
)

from .._errors import AwsError, ErrorKind
from .pacing import AccountPacer, pacing
from .retry import Attempts, RetryPolicy, call_with_retries

log = logging.getLogger("collector")

_acting_credentials: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "collector_acting_credentials"
)


class _ActingCredentials(AioCredentials):  # type: ignore[misc]
    """Credentials that are whichever account's the current task is acting as."""

    def __init__(self) -> None:
        super().__init__(access_key="", secret_key="", method="collector-acting-as")

    async def get_frozen_credentials(self) -> Any:
        return await _current().get_frozen_credentials()


class _ActingProvider:
    METHOD = "collector-acting-as"
    CANONICAL_NAME = "collector-acting-as"

    async def load(self) -> _ActingCredentials:
        return _ActingCredentials()


def acting_resolver() -> AioCredentialResolver:
    """A credential resolver for sessions whose clients act as the current task's account."""
    return AioCredentialResolver(providers=[_ActingProvider()])


def _current() -> Any:
    try:
        return _acting_credentials.get()
    except LookupError:
        raise RuntimeError("AWS call made outside acting_as()") from None


@contextmanager
def acting_as(credentials: Any) -> Iterator[None]:
    """Make calls from this task use `credentials` (task-local: each task has its own); an
    account's credentials also pace its calls, slowing down while AWS throttles them."""
    token = _acting_credentials.set(credentials)
    paced = (
        pacing(credentials.pacer, credentials.account_id)
        if isinstance(credentials, ActingAccount)
        else nullcontext()
    )
    try:
        with paced:
            yield
    finally:
        _acting_credentials.reset(token)


# How long frozen credentials are reused before botocore is asked again, when they have
# more than botocore's refresh window (15 minutes) plus this left: within the window,
# botocore decides on every request, as it would without the collector.
_REUSE_SECONDS = 60.0
_REFRESH_WINDOW_SECONDS = 15 * 60


class ActingAccount:
    """What acting as one account means for each request signed for it: its credentials,
    frozen and reused for a minute (botocore would check the expiry
    against a `dateutil` local time on every request), and a token from its request budget.
    """

    def __init__(
        self,
        account_id: str,
        credentials: Any,
        pacer: AccountPacer,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.account_id = account_id
        self.credentials = credentials
        self.pacer = pacer
        self._clock = clock
        self._frozen: Any = None
        self._until = 0.0

    async def get_frozen_credentials(self) -> Any:
        # Called by the signer once per request, retries included.
        await self.pacer.wait(self.account_id)
        now = self._clock()
        if self._frozen is None or now >= self._until:
            self._frozen = await self.credentials.get_frozen_credentials()
            if _seconds_left(self.credentials) > _REFRESH_WINDOW_SECONDS + _REUSE_SECONDS:
                self._until = now + _REUSE_SECONDS
        return self._frozen


def _seconds_left(credentials: Any) -> float:
    """How long refreshable credentials stay valid (infinite for static ones)."""
    expiry = getattr(credentials, "_expiry_time", None)
    if expiry is None:
        return math.inf
    return float((expiry - datetime.now(UTC)).total_seconds())


ROLE_SESSION_NAME = "appflow-inventory"
# botocore refreshes credentials 15 minutes before they expire, so anything shorter than
# that would be refreshed on every call.
ROLE_SESSION_SECONDS = 3600


# Failures that will not change within a run; anything else (throttling, a 5xx, a timeout)
# is not remembered, so the account's next scope tries again.
_PERMANENT = frozenset(
    {
        ErrorKind.ASSUME_ROLE_FAILED,
        ErrorKind.ACCESS_DENIED,
        ErrorKind.VALIDATION_ERROR,
        ErrorKind.GUARDRAIL_DENY,
    }
)


@dataclass(frozen=True, slots=True)
class MemberRole:
    """The role assumed in each account: its name (optionally after an IAM path), the
    external id its trust policy asks for, and the partition its ARNs are in."""

    name: str
    external_id: str | None = None
    partition: str = "aws"

    def arn(self, account_id: str) -> str:
        """The role's ARN in `account_id`; the name may carry an IAM path (`team/Reader`)."""
        # A path may be written as IAM writes it, with its leading slash (`/team/Reader`).
        return f"arn:{self.partition}:iam::{account_id}:role/{self.name.lstrip('/')}"


class AssumedRoles:
    """Each account's role, assumed once per run and refreshed by botocore near expiry.

    A permanent failure (denied, no such role, invalid) is remembered, so such an account
    costs one AssumeRole, not one per region; a transient one is tried again by the
    account's next scope.
    """

    def __init__(self, sts: Any, role: MemberRole, retry: RetryPolicy, counter: Attempts) -> None:
        self._sts = sts
        self._role = role
        self._retry = retry
        self._counter = counter
        self._credentials: dict[str, Any] = {}
        self._locks: dict[str, anyio.Lock] = {}

    def role_arn(self, account_id: str) -> str:
        return self._role.arn(account_id)

    def assumed(self, account_id: str) -> bool:
        """Whether this run holds credentials AssumeRole issued for `account_id`."""
        return isinstance(self._credentials.get(account_id), AioRefreshableCredentials)

    async def credentials(self, account_id: str) -> Any:
        """Refreshable credentials for the role in `account_id`; raises `AwsError`."""
        cached = self._credentials.get(account_id)
        if cached is None:
            cached = await self._first_credentials(account_id)
        if isinstance(cached, AwsError):
            raise cached
        return cached

    async def _first_credentials(self, account_id: str) -> Any:
        # One AssumeRole per account however many scopes ask at once; the lock goes once
        # the answer is kept (a thousand accounts' locks are most of a megabyte).
        lock = self._locks.setdefault(account_id, anyio.Lock())
        async with lock:
            cached = self._credentials.get(account_id)
            if cached is not None:
                return cached
            try:
                metadata = await self._assume_role(account_id)
            except AwsError as error:
                if error.kind in _PERMANENT:
                    self._credentials[account_id] = error
                    self._locks.pop(account_id, None)
                raise
            cached = AioRefreshableCredentials.create_from_metadata(
                metadata,
                refresh_using=lambda: self._refresh(account_id),
                method="assume-role",
            )
            self._credentials[account_id] = cached
            self._locks.pop(account_id, None)
            return cached

    async def _refresh(self, account_id: str) -> dict[str, Any]:
        # botocore calls this when the role's credentials near expiry; if it fails, the
        # calls that needed fresh credentials fail as expired credentials.
        try:
            return await self._assume_role(account_id)
        except AwsError as error:
            raise AwsError(
                ErrorKind.CREDENTIALS_EXPIRED,
                error.code,
                f"the role's credentials expired and could not be renewed: {error.message}",
            ) from error

    async def _assume_role(self, account_id: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "RoleArn": self.role_arn(account_id),
            "RoleSessionName": ROLE_SESSION_NAME,
            "DurationSeconds": ROLE_SESSION_SECONDS,
        }
        if self._role.external_id:
            params["ExternalId"] = self._role.external_id
        try:
            response = await call_with_retries(
                lambda: self._sts.assume_role(**params), self._retry, self._counter
            )
        except AwsError as error:
            if error.kind in (
                ErrorKind.ACCESS_DENIED,
                ErrorKind.VALIDATION_ERROR,
                ErrorKind.UNKNOWN,
            ):
                raise AwsError(
                    ErrorKind.ASSUME_ROLE_FAILED,
                    error.code,
                    f"cannot assume {params['RoleArn']}: {error.message}",
                ) from error
            raise
        credentials = response["Credentials"]
        expiration = credentials["Expiration"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": expiration if isinstance(expiration, str) else expiration.isoformat(),
        }


class AccountCredentials:
    """Each account's credentials in a run: its role, assumed once, or the base ones; paced
    and frozen for a minute at a time (`ActingAccount`).

    `caller` is the account of the base credentials when they may stand in for its member
    role: the management (or delegated administrator) account where the collector runs
    usually has none, as a service-managed StackSet does not deploy there.
    """

    def __init__(
        self,
        base: Any,
        roles: AssumedRoles | None,
        pacer: AccountPacer,
        caller: str | None = None,
    ) -> None:
        self._base = base
        self._roles = roles
        self._pacer = pacer
        self._caller = caller
        self._acting: dict[str, ActingAccount] = {}
        self._stood_in = False

    async def for_account(self, account_id: str) -> ActingAccount:
        """Credentials for `account_id`; raises `AwsError`."""
        if self._roles is None:
            credentials = await self._base.get_credentials()
        else:
            credentials = await self._role_or_caller(self._roles, account_id)
        acting = self._acting.get(account_id)
        if acting is None or acting.credentials is not credentials:
            acting = ActingAccount(account_id, credentials, self._pacer)
            self._acting[account_id] = acting
        return acting

    @property
    def stood_in(self) -> str | None:
        """The caller's own account, if its credentials stood in for a role it lacks."""
        return self._caller if self._stood_in else None

    def issued_by_sts(self, account_id: str) -> bool:
        """Whether the account's credentials in this run came from a regional AssumeRole
        (and so are valid in every region the account has enabled)."""
        return self._roles is not None and self._roles.assumed(account_id)

    async def _role_or_caller(self, roles: AssumedRoles, account_id: str) -> Any:
        try:
            return await roles.credentials(account_id)
        except AwsError as error:
            if account_id != self._caller or error.kind is not ErrorKind.ASSUME_ROLE_FAILED:
                raise
            if not self._stood_in:
                self._stood_in = True
                log.warning(
                    "account %s: %s; collecting it with the collector's own credentials, "
                    "which need the member role's read permissions there",
                    account_id,
                    error.message,
                    extra={"event": "caller_credentials_used", "account": account_id},
                )
            return await self._base.get_credentials()
