"""Opt-in regions, decided by AppFlow's own answer rather than by EC2.

In an opt-in region an account has not enabled, AppFlow refuses the call as an unknown token
(`UnrecognizedClientException`). The same answer would come from credentials that are not
valid anywhere, so it means "not enabled" only when this account's credentials are proven
good in this run: an AppFlow call of the account succeeded in a region every account has, or
AssumeRole just issued them from a regional STS endpoint. The opt-in scopes are listed after
the others, and wait for the account's other scopes, so the proof is there when it exists.
Only if it is still ambiguous is `ec2:DescribeRegions` asked (once, see `_aws/regions.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import anyio

from .._aws import Aws
from .._errors import ErrorKind
from .._model.regions import is_opt_in
from .._model.scopes import Listing, Scope, ScopeOutcome, ScopeStatus

UNKNOWN_TOKEN_CODES = frozenset({"UnrecognizedClientException", "InvalidClientTokenId"})


def listing_order(
    scopes: Sequence[Scope], pages: Mapping[tuple[str, str], int] | None = None
) -> list[Scope]:
    """`scopes` interleaved across accounts and regions, opt-in regions last; scopes that
    took several pages last time (`pages`) first, longest first.

    A scope's pages come one after another, so the longest scope bounds the run's wall time:
    started first, it runs beside all the others instead of after them.

    In round k each account lists one region, its own k-th in rotation, so consecutive
    scopes belong to different accounts (no account's request budget is crowded) and to
    different regions (each region's shared client keeps a few warm connections rather
    than the whole pool opening at once on one region). Accounts keep their order within
    a round.
    """
    regions: dict[str, int] = {}
    accounts: dict[str, int] = {}
    for scope in scopes:
        accounts.setdefault(scope.account_id, len(accounts))
        if not is_opt_in(scope.region):
            regions.setdefault(scope.region, len(regions))
    count = max(1, len(regions))

    known = pages or {}

    def key(scope: Scope) -> tuple[int, bool, int, int]:
        account = accounts[scope.account_id]
        longest_first = -known.get((scope.account_id, scope.region), 0)
        if is_opt_in(scope.region):
            return longest_first, True, 0, account
        return longest_first, False, (regions[scope.region] - account) % count, account

    return sorted(scopes, key=key)


class OptInEvidence:
    """Which accounts' credentials worked in a region every account has, this run."""

    def __init__(self, scopes: Sequence[Scope]) -> None:
        self._pending: Counter[str] = Counter(
            s.account_id for s in scopes if not is_opt_in(s.region)
        )
        self._done: dict[str, anyio.Event] = {}
        self._worked: set[str] = set()

    def finished(self, outcome: ScopeOutcome) -> None:
        """Record a listed scope of a region every account has."""
        account = outcome.scope.account_id
        if is_opt_in(outcome.scope.region):
            return
        # One listing that worked proves the credentials, whatever the others met.
        if outcome.status is ScopeStatus.SUCCEEDED or any(
            listing.status is ScopeStatus.SUCCEEDED for listing in outcome.listings.values()
        ):
            self._worked.add(account)
        self._pending[account] -= 1
        if self._pending[account] <= 0:
            # Only waiters need the event, and they hold it: the run keeps nothing per
            # account once its scopes are done (a thousand accounts, a megabyte).
            waited = self._done.pop(account, None)
            if waited is not None:
                waited.set()

    async def proven(self, account: str) -> bool:
        """Whether the account's credentials worked elsewhere (waiting for its other scopes)."""
        if self._pending[account] > 0:
            await self._event(account).wait()
        return account in self._worked

    def _event(self, account: str) -> anyio.Event:
        return self._done.setdefault(account, anyio.Event())


def refused_as_unknown_token(outcome: ScopeOutcome | Listing) -> bool:
    """Whether AppFlow refused the first call of a scope (or of one of its listings) as an
    unknown token."""
    pages = (
        [listing.pages for listing in outcome.listings.values()]
        if isinstance(outcome, ScopeOutcome)
        else [outcome.pages]
    )
    return (
        outcome.status is ScopeStatus.FAILED
        and not any(pages)
        and outcome.aws_error_code in UNKNOWN_TOKEN_CODES
    )


async def opt_in_verdict(
    aws: Aws, evidence: OptInEvidence, outcome: ScopeOutcome, credentials: Any
) -> ScopeOutcome:
    """`outcome` of an opt-in scope refused as an unknown token: `skipped` if the region is
    not enabled for the account, else the failure as it was (`access_denied`)."""
    scope = outcome.scope
    if aws.credentials.issued_by_sts(scope.account_id) or await evidence.proven(scope.account_id):
        return _skipped(outcome, "AppFlow does not know the account's valid credentials there")
    status = await aws.opt_in.status_of(scope.account_id, scope.region, credentials)
    if status == "not-opted-in":
        return _skipped(outcome, "ec2:DescribeRegions says so")
    return outcome


def _skipped(outcome: ScopeOutcome, why: str) -> ScopeOutcome:
    scope = outcome.scope
    message = f"{scope.region} is an opt-in region this account has not enabled ({why})"
    return ScopeOutcome(
        scope,
        ScopeStatus.SKIPPED,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
        listings={
            name: replace(
                listing,
                status=ScopeStatus.SKIPPED,
                error_code=ErrorKind.REGION_NOT_ENABLED.value,
                error_message=message,
            )
            for name, listing in outcome.listings.items()
        },
        error_code=ErrorKind.REGION_NOT_ENABLED.value,
        aws_error_code=outcome.aws_error_code,
        error_message=message,
    )


# What a region without an AppFlow endpoint looks like from here: its host name does not
# resolve, or nothing answers.
_NO_ENDPOINT = frozenset({ErrorKind.CONNECTION_ERROR.value, ErrorKind.TIMEOUT.value})


def unreachable_verdict(outcome: ScopeOutcome) -> ScopeOutcome:
    """`outcome` of a scope in a region botocore's data does not list for AppFlow: if no
    call got an answer, the region is `region_unreachable`, with a message that says why."""
    if outcome.status is not ScopeStatus.FAILED or outcome.error_code not in _NO_ENDPOINT:
        return outcome
    if any(listing.pages for listing in outcome.listings.values()):
        return outcome
    scope = outcome.scope
    message = (
        f"{scope.region} is not in botocore's AppFlow endpoint data and its endpoint did not "
        f"answer ({outcome.error_message}); check the region's name, or that AppFlow runs there"
    )
    listings = {
        resource: replace(
            listing, error_code=ErrorKind.REGION_UNREACHABLE.value, error_message=message
        )
        if listing.status is ScopeStatus.FAILED
        else listing
        for resource, listing in outcome.listings.items()
    }
    return ScopeOutcome.of(scope, outcome.started_at, outcome.finished_at, listings)
