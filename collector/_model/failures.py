"""Failed and skipped scopes grouped by cause, with what to do about each. Pure.

A run over 500 accounts with a wrong role name fails thousands of scopes the same way; people
need one line per cause, not one per scope. A cause is the scope's status (failed or
skipped), its error code (`collection_scopes.error_code`) and what AWS said (its
`aws_error_code`). Each group counts its scopes and accounts, keeps a few examples, and
carries the fix for its code; a code without a fix of its own (one added later) gets the
generic pointer, so new codes need no change here to be grouped and shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .scopes import ScopeOutcome, ScopeStatus

EXAMPLES = 3
"""Examples kept per group."""

FIXES: Mapping[str, str] = {
    "assume_role_failed": (
        "check --role-name and --external-id, and the role's trust policy in those accounts "
        "(deploy/cloudformation/member-role.yaml)"
    ),
    "access_denied": (
        "give the role the read permissions of deploy/cloudformation/member-role.yaml; if the "
        "message names a service or resource control policy, that policy does not allow it"
    ),
    "guardrail_deny": (
        "nothing to do: an organization policy denies this on purpose (leave the region out "
        "of --regions, or the account out with --exclude-accounts, to stop asking)"
    ),
    "region_unreachable": (
        "check the region's name (a typo of a known one is named in the run's warning); a "
        "region AppFlow does not serve there cannot be collected: leave it out of --regions"
    ),
    "credentials_expired": (
        "renew the base credentials (aws sso login, or the role they come from) and run again"
    ),
    "region_not_enabled": (
        "nothing to do: an opt-in region these accounts have not enabled (leave it out of "
        "--regions to skip asking)"
    ),
    "throttled": "lower --concurrency or --account-rate, or raise --max-attempts",
    "server_error": "AWS kept answering 5xx: the next run tries again (or raise --max-attempts)",
    "validation_error": "AWS refused the request as invalid: see the message",
    "timeout": "raise --read-timeout or --connect-timeout, or check the network path to AWS",
    "connection_error": (
        "check the network path to AWS (proxy, VPC endpoints, AWS_ENDPOINT_URL_* settings)"
    ),
    "invalid_response": "AWS sent something the collector cannot use: see the message",
    "too_large": "raise --scope-budget-mib for these scopes' accounts",
    "internal_error": "a bug in the collector: run again with -v and report the traceback",
    "unknown": "see aws_error_code and the message",
}
GENERIC_FIX = "see the message, and the error codes in docs/configuration.md"


def fix_for(error_code: str | None) -> str:
    """What to do about scopes that failed (or were skipped) with `error_code`."""
    return FIXES.get(error_code or "", GENERIC_FIX)


@dataclass(frozen=True, slots=True)
class Example:
    """One scope of a group, with its own message."""

    account_id: str
    region: str
    message: str


@dataclass(slots=True)
class FailureGroup:
    """The scopes that failed (or were skipped) for one cause."""

    status: str
    error_code: str
    cause: str | None
    """What AWS said (`aws_error_code`), when it said something."""
    scopes: int = 0
    accounts: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    examples: list[Example] = field(default_factory=list)

    @property
    def fix(self) -> str:
        return fix_for(self.error_code)

    def as_dict(self) -> dict[str, Any]:
        """The group as the `run_finished` event and the summary file carry it."""
        return {
            "error_code": self.error_code,
            "cause": self.cause,
            "scopes": self.scopes,
            "accounts": len(self.accounts),
            "regions": sorted(self.regions),
            "fix": self.fix,
            "examples": [
                {"account": e.account_id, "region": e.region, "message": e.message}
                for e in self.examples
            ],
        }


@dataclass(slots=True)
class FailureTally:
    """Every scope's outcome, counted as it arrives; failed and skipped ones by cause."""

    accounts: set[str] = field(default_factory=set)
    """Every account with a scope in the run, whatever its status."""
    _groups: dict[tuple[str, str, str | None], FailureGroup] = field(default_factory=dict)

    @classmethod
    def of(cls, outcomes: Iterable[ScopeOutcome]) -> FailureTally:
        tally = cls()
        for outcome in outcomes:
            tally.add(outcome)
        return tally

    def add(self, outcome: ScopeOutcome) -> None:
        scope = outcome.scope
        self.accounts.add(scope.account_id)
        if outcome.status is ScopeStatus.SUCCEEDED:
            return
        example = Example(scope.account_id, scope.region, outcome.error_message or "")
        self.add_failure(
            outcome.status.value, outcome.error_code or "unknown", outcome.aws_error_code, example
        )

    def add_failure(
        self, status: str, error_code: str, cause: str | None, example: Example
    ) -> None:
        """Count one failed or skipped scope (or check) under its cause."""
        key = (status, error_code, cause)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = FailureGroup(status, error_code, cause)
        group.scopes += 1
        group.accounts.add(example.account_id)
        group.regions.add(example.region)
        # Examples from different accounts say more than one account's every region.
        if len(group.examples) < EXAMPLES and all(
            e.account_id != example.account_id for e in group.examples
        ):
            group.examples.append(example)

    def groups(self, status: str) -> list[FailureGroup]:
        """The groups of one status, the largest first."""
        found = [g for g in self._groups.values() if g.status == status]
        return sorted(found, key=lambda g: (-g.scopes, g.error_code, g.cause or ""))

    @property
    def failed(self) -> list[FailureGroup]:
        return self.groups(ScopeStatus.FAILED.value)

    @property
    def skipped(self) -> list[FailureGroup]:
        return self.groups(ScopeStatus.SKIPPED.value)
