"""Failed and skipped scopes grouped by cause, as the run summary, its event and the check
show them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from collector._cli.summary import format_summary, not_started, run_finished
from collector._errors import ErrorKind
from collector._model.failures import FIXES, GENERIC_FIX, FailureTally, fix_for
from collector._model.resources import PROFILES
from collector._model.run import RunResult
from collector._model.scopes import Listing, Scope, ScopeOutcome, ScopeStatus

AT = datetime(2026, 11, 27, tzinfo=UTC)
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDNpYcD+abc"


def outcome(
    account: str,
    region: str,
    status: ScopeStatus = ScopeStatus.FAILED,
    code: str = "assume_role_failed",
    cause: str | None = "AccessDenied",
    message: str = "cannot assume",
) -> ScopeOutcome:
    if status is ScopeStatus.SUCCEEDED:
        return ScopeOutcome(Scope(account, region), status, AT, AT, {PROFILES: Listing()})
    return ScopeOutcome(
        Scope(account, region),
        status,
        AT,
        AT,
        error_code=code,
        aws_error_code=cause,
        error_message=message,
    )


def accounts(n: int) -> list[str]:
    return [f"{i:012d}" for i in range(1, n + 1)]


def wrong_role_run(regions: int = 16, count: int = 6) -> list[ScopeOutcome]:
    """Every scope of `count` accounts fails to assume the role, in `regions` regions."""
    return [outcome(account, f"region-{r}") for account in accounts(count) for r in range(regions)]


def test_one_cause_is_one_group_with_its_counts() -> None:
    """96 scopes failing the same way are one group: 96 scopes, 6 accounts, 16 regions."""
    tally = FailureTally.of(wrong_role_run())
    (group,) = tally.failed
    assert (group.error_code, group.cause, group.scopes) == (
        "assume_role_failed",
        "AccessDenied",
        96,
    )
    assert len(group.accounts) == 6
    assert len(group.regions) == 16
    assert group.fix == FIXES["assume_role_failed"]
    assert tally.skipped == []


def test_examples_come_from_different_accounts() -> None:
    """A group keeps three examples, each from another account when there are several."""
    (group,) = FailureTally.of(wrong_role_run()).failed
    assert [e.account_id for e in group.examples] == accounts(3)


def test_causes_are_told_apart_by_code_and_aws_code() -> None:
    """Failures of one code but different AWS codes, and skipped scopes, are groups of their
    own; the largest group comes first."""
    outcomes = [
        *wrong_role_run(regions=2, count=2),
        outcome("000000000009", "us-east-1", code="access_denied", cause="AccessDeniedException"),
        outcome(
            "000000000009", "eu-west-1", code="access_denied", cause="UnrecognizedClientException"
        ),
        outcome("000000000009", "af-south-1", ScopeStatus.SKIPPED, "region_not_enabled", None),
        outcome("000000000008", "us-east-1", ScopeStatus.SUCCEEDED),
    ]
    tally = FailureTally.of(outcomes)
    assert [(g.error_code, g.cause, g.scopes) for g in tally.failed] == [
        ("assume_role_failed", "AccessDenied", 4),
        ("access_denied", "AccessDeniedException", 1),
        ("access_denied", "UnrecognizedClientException", 1),
    ]
    assert [(g.error_code, g.scopes) for g in tally.skipped] == [("region_not_enabled", 1)]
    assert len(tally.accounts) == 4  # every account with a scope, succeeded ones included


def test_a_code_without_a_fix_of_its_own_gets_the_generic_pointer() -> None:
    """An error code the tally has never heard of (one added later) is grouped and shown
    like any other, with the generic fix."""
    tally = FailureTally.of([outcome("000000000001", "us-east-1", code="brand_new", cause="X")])
    (group,) = tally.failed
    assert group.fix == GENERIC_FIX == fix_for("brand_new") == fix_for(None)


def test_every_fix_is_for_a_real_code() -> None:
    """The fixes name only error codes the collector has (no stale entry)."""
    assert set(FIXES) <= {str(kind) for kind in ErrorKind}


def finished(outcomes: list[ScopeOutcome]) -> RunResult:
    result = RunResult(run_id="r-1", started_at=AT, resources=(PROFILES,))
    for o in outcomes:
        result.tally(o, {})
    result.finish(AT)
    return result


def test_the_summary_has_one_line_per_cause_not_per_scope() -> None:
    """96 failed scopes make one group line, three example lines, a count of the others and
    where to look; skipped scopes one line per cause."""
    outcomes = [
        *wrong_role_run(),
        outcome("000000000007", "af-south-1", ScopeStatus.SKIPPED, "region_not_enabled", None),
        outcome("000000000007", "us-east-1", ScopeStatus.SUCCEEDED),
    ]
    summary = format_summary(finished(outcomes), 2.0, FailureTally.of(outcomes)).splitlines()
    assert summary[0].startswith("run r-1 partial in 2.0s: 98 scopes (1 succeeded, 96 failed,")
    assert summary[2] == (
        "failed assume_role_failed (AccessDenied) in 96 scopes, 6 of 7 accounts: "
        + FIXES["assume_role_failed"]
    )
    assert summary[3:6] == [
        f"  failed {account} region-0 assume_role_failed: cannot assume" for account in accounts(3)
    ]
    assert summary[6:] == [
        "  ... and 93 more",
        "skipped region_not_enabled in 1 scope, 1 of 7 accounts: " + FIXES["region_not_enabled"],
        "details: collector runs --run r-1",
    ]


def test_the_run_finished_event_holds_the_result_grouped() -> None:
    """`run_finished` carries the status, exit code, counts and each cause's group, with
    messages masked."""
    outcomes = [
        *wrong_role_run(regions=2, count=2),
        outcome("000000000003", "us-east-1", code="access_denied", message=f"token={TOKEN}"),
        outcome("000000000003", "af-south-1", ScopeStatus.SKIPPED, "region_not_enabled", None),
    ]
    event = run_finished(finished(outcomes), 1.5, FailureTally.of(outcomes))
    text = json.dumps(event)
    assert TOKEN not in text
    assert event["event"] == "run_finished"
    assert (event["status"], event["exit_code"], event["accounts"]) == ("failed", 1, 3)
    assert event["scopes"] == {"total": 6, "succeeded": 0, "failed": 5, "skipped": 1}
    assert event["resources"] == {
        "profiles": {"seen": 0, "created": 0, "updated": 0, "deleted": 0, "restored": 0}
    }
    assert [(g["error_code"], g["scopes"], g["accounts"]) for g in event["failures"]] == [
        ("assume_role_failed", 4, 2),
        ("access_denied", 1, 1),
    ]
    assert event["failures"][1]["examples"] == [
        {"account": "000000000003", "region": "us-east-1", "message": "token=***"}
    ]
    assert [g["error_code"] for g in event["skipped"]] == ["region_not_enabled"]
    assert event["details"] == "collector runs --run r-1"


def test_a_run_that_could_not_start_still_ends_with_its_event() -> None:
    """A run stopped before it began has a `run_finished` event with its exit code, no run
    id, and the reason masked."""
    event = not_started(f"database postgresql://u:s3cret@h/db: refused token={TOKEN}", 3, 0.2)
    assert (event["event"], event["status"], event["exit_code"]) == (
        "run_finished",
        "not_started",
        3,
    )
    assert event["run_id"] is None
    assert "s3cret" not in json.dumps(event)
    assert TOKEN not in json.dumps(event)
