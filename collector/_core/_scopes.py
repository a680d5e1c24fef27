"""What one (account, region) listing produced, handed from the workers to the writer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ._normalize import ProfileRecord


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


@dataclass(slots=True)
class ScopeOutcome:
    """The result of listing one scope.

    `complete` is true only when every page was read without error and without a filter:
    the only case in which profiles missing from `records` may be marked deleted.
    """

    scope: Scope
    status: ScopeStatus
    started_at: datetime
    finished_at: datetime
    records: list[ProfileRecord] = field(default_factory=list)
    complete: bool = False
    pages: int = 0
    attempts: int = 0
    retries: int = 0
    error_code: str | None = None
    aws_error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class ScopeChanges:
    """What writing one scope changed in the inventory."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    restored: int = 0
    unchanged: int = 0


def shard_of(account_id: str, count: int) -> int:
    """The shard (0..count-1) that owns an account: stable across runs, machines and Pythons."""
    digest = hashlib.sha256(account_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count
