"""One collection pass as a whole: its status, its counts, and what its exit code means."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from .resource import Resource
from .scopes import ScopeChanges, ScopeOutcome, ScopeStatus

CHANGE_TYPES = ("created", "updated", "deleted", "restored")


class RunStatus(StrEnum):
    """`collection_runs.status`."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class ExitCode(IntEnum):
    """The process exit codes of every `collector` command (docs/configuration.md, "Exit codes")."""

    OK = 0
    """Every scope was collected (or, for other commands, the command did what it was asked)."""
    PARTIAL = 1
    """The run finished but some scopes failed; or a read found nothing (`history`)."""
    USAGE = 2
    """Usage or configuration error: one line on stderr, nothing done."""
    CANNOT_RUN = 3
    """Database unreachable or unusable, another run holds the lock, or an internal error."""
    INTERRUPTED = 4
    """Stopped by SIGTERM, SIGINT or --deadline; what was done before is kept."""


_EXIT_CODES = {RunStatus.SUCCEEDED: ExitCode.OK, RunStatus.INTERRUPTED: ExitCode.INTERRUPTED}


@dataclass(slots=True)
class RunResult:
    """What a run did; `exit_code` is the process's."""

    run_id: str
    started_at: datetime
    status: RunStatus = RunStatus.RUNNING
    finished_at: datetime | None = None
    resources: tuple[Resource, ...] = ()
    """The resources the run lists, in listing order."""
    scopes: Counter[str] = field(default_factory=Counter)
    counts: dict[Resource, Counter[str]] = field(default_factory=dict)
    """Per resource: records `seen`, and the versions written by change type."""
    requests: int = 0
    retries: int = 0
    failures: list[ScopeOutcome] = field(default_factory=list)
    skips: Counter[str] = field(default_factory=Counter)
    """Skipped scopes by error code (`region_not_enabled`, `guardrail_deny`)."""
    error: str | None = None
    last_success: datetime | None = None
    """When the latest fully successful run (of this shard) finished, this one included."""

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT_CODES.get(self.status, ExitCode.PARTIAL)

    def count(self, resource: Resource) -> Counter[str]:
        """The counts of one resource: `seen` and each change type (zero if none)."""
        return self.counts.setdefault(resource, Counter())

    def tally(self, outcome: ScopeOutcome, changes: Mapping[Resource, ScopeChanges]) -> None:
        """Count a written scope; `changes` is what it changed, by resource."""
        self.scopes[outcome.status.value] += 1
        self.requests += outcome.attempts
        self.retries += outcome.retries
        for resource, listing in outcome.listings.items():
            counts = self.count(resource)
            counts["seen"] += len(listing.records)
            written = changes.get(resource, ScopeChanges())
            for kind in CHANGE_TYPES:
                counts[kind] += getattr(written, kind)
        if outcome.status is ScopeStatus.FAILED:
            self.failures.append(outcome)
        elif outcome.status is ScopeStatus.SKIPPED:
            self.skips[str(outcome.error_code)] += 1

    def finish(
        self, at: datetime, *, interruption: str | None = None, failure: str | None = None
    ) -> None:
        """Set the final status: interrupted, failed (a run-level error, or no scope collected
        while some failed), partial, or succeeded."""
        self.finished_at = at
        if failure is not None:
            self.error = failure
        if interruption is not None:
            self.status = RunStatus.INTERRUPTED
            self.error = interruption
        elif self.error is not None or (
            self.scopes[ScopeStatus.FAILED] and not self.scopes[ScopeStatus.SUCCEEDED]
        ):
            self.status = RunStatus.FAILED
        elif self.scopes[ScopeStatus.FAILED]:
            self.status = RunStatus.PARTIAL
        else:
            self.status = RunStatus.SUCCEEDED
