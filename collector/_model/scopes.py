"""Scopes (account, region), what listing one produced, and how accounts split into shards."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .profiles import ProfileRecord


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
