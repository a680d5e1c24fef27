"""Scopes (account, region), what listing one produced, and how accounts split into shards."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from .._errors import SKIPPING_KINDS, AwsError, ErrorKind
from .resource import Record, Resource


class ScopeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True, order=True)
class Scope:
    account_id: str
    region: str

    def __str__(self) -> str:
        return f"{self.account_id}/{self.region}"


# A scope is as bad as its worst listing.
_SEVERITY = {ScopeStatus.SUCCEEDED: 0, ScopeStatus.SKIPPED: 1, ScopeStatus.FAILED: 2}


@dataclass(slots=True)
class Listing:
    """The result of listing one resource in one scope.

    `complete` is true only when every page was read without error and without a filter:
    the only case in which records missing from `records` may be marked deleted.
    """

    status: ScopeStatus = ScopeStatus.SUCCEEDED
    records: list[Record] = field(default_factory=list)
    complete: bool = False
    pages: int = 0
    attempts: int = 0
    retries: int = 0
    error_code: str | None = None
    aws_error_code: str | None = None
    error_message: str | None = None

    def failed(self, error: AwsError) -> Listing:
        """This listing stopped at `error`. What it listed before is kept (its sightings are
        written), but it is never complete, so nothing is marked deleted from it. An error
        that says the organization denies the call on purpose skips it instead."""
        return replace(
            self,
            status=_status_after(error),
            complete=False,
            error_code=error.kind.value,
            aws_error_code=error.code,
            error_message=error.message or error.code,
        )

    def dropped(self, error: AwsError) -> Listing:
        """This listing failed at `error`, and nothing of it is written."""
        return replace(self.failed(error), records=[])

    def refused(self, message: str) -> Listing:
        """The database refused this listing's values: it failed, and nothing of it is
        written."""
        return self.dropped(AwsError(ErrorKind.INVALID_RESPONSE, "UnstorableData", message))


@dataclass(slots=True)
class ScopeOutcome:
    """The result of listing one scope: one `Listing` per resource listed.

    The scope's status is the worst of its listings'; its error is the first failed
    listing's, or the scope's own when it failed (or was skipped) before any listing.
    """

    scope: Scope
    status: ScopeStatus
    started_at: datetime
    finished_at: datetime
    listings: dict[Resource, Listing] = field(default_factory=dict)
    error_code: str | None = None
    aws_error_code: str | None = None
    error_message: str | None = None

    @classmethod
    def of(
        cls,
        scope: Scope,
        started_at: datetime,
        finished_at: datetime,
        listings: dict[Resource, Listing],
    ) -> ScopeOutcome:
        """The outcome of a scope whose resources were listed."""
        outcome = cls(scope, ScopeStatus.SUCCEEDED, started_at, finished_at, listings)
        for listing in listings.values():
            if _SEVERITY[listing.status] > _SEVERITY[outcome.status]:
                outcome.status = listing.status
            if listing.status is not ScopeStatus.SUCCEEDED and outcome.error_code is None:
                outcome.error_code = listing.error_code
                outcome.aws_error_code = listing.aws_error_code
                outcome.error_message = listing.error_message
        return outcome

    @classmethod
    def failed_before_listing(cls, scope: Scope, error: AwsError, at: datetime) -> ScopeOutcome:
        """A scope that failed before any of its listings (its credentials, say)."""
        return cls(
            scope,
            _status_after(error),
            started_at=at,
            finished_at=at,
            error_code=error.kind.value,
            aws_error_code=error.code,
            error_message=error.message or error.code,
        )

    def listing(self, resource: Resource) -> Listing:
        """The listing of `resource`; an empty, incomplete one if it was not listed."""
        found = self.listings.get(resource)
        return Listing(status=self.status) if found is None else found

    @property
    def attempts(self) -> int:
        """API attempts made for the scope's listings."""
        return sum(listing.attempts for listing in self.listings.values())

    @property
    def retries(self) -> int:
        return sum(listing.retries for listing in self.listings.values())

    @property
    def items(self) -> int:
        """Records listed, every resource together."""
        return sum(len(listing.records) for listing in self.listings.values())


def _status_after(error: AwsError) -> ScopeStatus:
    return ScopeStatus.SKIPPED if error.kind in SKIPPING_KINDS else ScopeStatus.FAILED


@dataclass(frozen=True, slots=True)
class ScopeChanges:
    """What writing one scope changed in the inventory."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    restored: int = 0
    unchanged: int = 0


_SHARD = re.compile(r"(\d+)/(\d+)", re.ASCII)


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` (0-based) of `count`: the accounts whose stable hash lands on it."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`"2/8"` -> Shard(2, 8); ValueError with a readable message if malformed."""
        match = _SHARD.fullmatch(text.strip())
        if not match:
            raise ValueError(f"--shard must look like INDEX/COUNT (e.g. 0/4), not {text!r}")
        index, count = int(match[1]), int(match[2])
        if count < 1 or not 0 <= index < count:
            raise ValueError(f"--shard {text}: INDEX must be in 0..COUNT-1")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def lock_name(self) -> str:
        return f"run-shard-{self.index}-of-{self.count}"

    def owns(self, account_id: str) -> bool:
        """Whether this shard collects `account_id`: stable across runs, machines, Pythons."""
        digest = hashlib.sha256(account_id.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index
