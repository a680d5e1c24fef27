"""Decide what one scope's listing means for the stored inventory. Pure, no I/O.

The rules are the same for every resource the inventory keeps: they see a record only
through its ARN and the digest of its snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .resource import Record

R = TypeVar("R", bound=Record)


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """What the store knows about a record before this listing."""

    arn: str
    content_hash: str
    version: int
    deleted: bool


@dataclass(slots=True)
class ScopePlan(Generic[R]):
    """The changes a listing implies, grouped by what must be written."""

    created: list[R] = field(default_factory=list)
    updated: list[R] = field(default_factory=list)
    restored: list[R] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[R]:
        """Records whose row and current version must be rewritten."""
        return [*self.created, *self.updated, *self.restored]


def plan_scope(
    stored: Mapping[str, StoredRecord], listed: Iterable[R], complete: bool
) -> ScopePlan[R]:
    """Compare a listing with the stored state of its scope.

    `complete` says the listing covered the whole scope: every page, no error, no filter.
    Only then can a stored record missing from the listing be marked deleted.
    """
    plan: ScopePlan[R] = ScopePlan()
    seen: set[str] = set()
    for record in listed:
        seen.add(record.arn)
        before = stored.get(record.arn)
        if before is None:
            plan.created.append(record)
        elif before.deleted:
            plan.restored.append(record)
        elif before.content_hash != record.content_hash:
            plan.updated.append(record)
        else:
            plan.unchanged.append(record.arn)
    if complete:
        plan.deleted = sorted(
            arn for arn, before in stored.items() if not before.deleted and arn not in seen
        )
    return plan


def dedupe(records: Iterable[R]) -> list[R]:
    """Keep the last sighting of each ARN, in first-seen order.

    A page that repeats a record must not create two versions in one run.
    """
    by_arn: dict[str, R] = {}
    for record in records:
        by_arn[record.arn] = record
    return list(by_arn.values())
