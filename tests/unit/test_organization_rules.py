"""The rules behind running in a real organization, at the lowest layer: which departed
accounts lose their records, when a description is stale, how an account's pace adapts to
throttling, how a run rides out a database that is away, and which AWS denials are
guardrails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest
from botocore.exceptions import ClientError

from collector._aws.errors import translate
from collector._aws.pacing import MIN_ACCOUNT_RATE, AccountPacer
from collector._errors import DatabaseUnavailableError, ErrorKind
from collector._model.organization import (
    CLOSED,
    LEFT,
    AccountInfo,
    OrganizationScope,
    departures,
)
from collector._model.resource import Known, stale
from collector._store.patience import Patience, ride_out

from ..support import SharedClock

A, B, C, D = "111111111111", "222222222222", "333333333333", "444444444444"


def account(account_id: str, state: str = "ACTIVE") -> AccountInfo:
    return AccountInfo(account_id, "organization", state=state)


def test_closed_and_departed_accounts_lose_their_records() -> None:
    """A listed account no longer ACTIVE closed; a recorded member the listing lacks left;
    an active member stays."""
    listed = [account(A), account(B, "SUSPENDED"), account(C, "PENDING_CLOSURE")]
    assert departures(listed, [A, B, D], OrganizationScope()) == {B: CLOSED, C: CLOSED, D: LEFT}


def test_exclusions_ou_filters_and_other_shards_keep_their_records() -> None:
    """Excluded accounts, any OU filter, and accounts another shard owns never lose theirs."""
    listed = [account(A, "CLOSED"), account(B, "CLOSED")]
    assert departures(listed, [C], OrganizationScope(excluded=frozenset({A}))) == {
        B: CLOSED,
        C: LEFT,
    }
    assert departures(listed, [C], OrganizationScope(included=frozenset({A, B}))) == {}
    assert departures(listed, [C], OrganizationScope(), owned=lambda a: a == C) == {C: LEFT}


def test_a_description_goes_stale_within_its_age_spread_per_record() -> None:
    """A description is stale once older than the age, shortened by up to half per record;
    never dated, it is stale."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    day = 86400.0
    fresh = Known("arn", "s", "c", now - timedelta(hours=11))
    old = Known("arn", "s", "c", now - timedelta(hours=24))
    assert not stale(fresh, "arn:a", now, day)
    assert stale(old, "arn:a", now, day)
    assert stale(Known("arn", "s", "c", None), "arn:a", now, day)
    thresholds = set()
    for n in range(200):
        key = f"arn:flow/{n}"
        hours = next(
            h
            for h in range(12, 25)
            if stale(Known(key, "s", "c", now - timedelta(hours=h)), key, now, day)
        )
        thresholds.add(hours)
    assert min(thresholds) >= 12
    assert len(thresholds) > 6  # spread over the half day, not all at once


def test_a_slowed_down_account_still_gets_its_calls_through() -> None:
    """At its slowest an account gets a call through every 1/rate seconds, never none."""
    clock = SharedClock(0.0)
    pacer = AccountPacer(rate=20.0, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        pacer.throttled(A)

    async def three() -> None:
        for _ in range(3):
            await pacer.wait(A)

    anyio.run(three)
    assert 3.9 <= clock.now <= 4.1  # the first at once, then one per 2 s at 0.5 a second


def test_a_throttled_account_slows_down_and_recovers_call_by_call() -> None:
    """Throttling halves an account's rate down to a floor; each call that goes through
    gives a little back, up to the configured rate; other accounts keep theirs."""
    pacer = AccountPacer(rate=20.0)
    for _ in range(10):
        pacer.throttled(A)
    assert pacer.rate_of(A) == MIN_ACCOUNT_RATE
    assert pacer.rate_of(B) == 20.0
    pacer.went_through(A)
    assert pacer.rate_of(A) > MIN_ACCOUNT_RATE
    for _ in range(1000):
        pacer.went_through(A)
    assert pacer.rate_of(A) == 20.0


def test_a_database_away_for_less_than_the_patience_is_waited_for() -> None:
    """An operation that fails while the database is away is run again with backoff, the
    lock taken back before each replay, until it works."""
    clock = SharedClock(0.0)
    calls: list[float] = []
    recovered: list[float] = []

    async def operation() -> str:
        calls.append(clock.now)
        if clock.now < 30:
            raise DatabaseUnavailableError("connection refused")
        return "written"

    async def take_back() -> None:
        recovered.append(clock.now)

    patience = Patience(120.0, sleep=clock.sleep, clock=clock)
    assert anyio.run(ride_out, operation, patience, take_back) == "written"
    assert clock.sleeps[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(clock.sleeps) <= 10.0
    assert len(recovered) == len(calls) - 1


def test_a_database_away_for_longer_than_the_patience_ends_the_run() -> None:
    """Past its patience the run gets the `DatabaseUnavailableError`, saying how long."""
    clock = SharedClock(0.0)

    async def operation() -> None:
        raise DatabaseUnavailableError("connection refused")

    patience = Patience(20.0, sleep=clock.sleep, clock=clock)
    with pytest.raises(DatabaseUnavailableError, match="still away after"):
        anyio.run(ride_out, operation, patience)
    assert sum(clock.sleeps) <= 20.0


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (
            "User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: "
            "appflow:ListFlows with an explicit deny in a service control policy",
            ErrorKind.GUARDRAIL_DENY,
        ),
        (
            "User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: "
            "appflow:ListFlows with an explicit deny in a resource control policy",
            ErrorKind.GUARDRAIL_DENY,
        ),
        (
            "User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: "
            "appflow:ListFlows because no identity-based policy allows the appflow:ListFlows "
            "action",
            ErrorKind.ACCESS_DENIED,
        ),
    ],
)
def test_only_an_explicit_organization_deny_is_a_guardrail(message: str, kind: ErrorKind) -> None:
    """An explicit deny in an SCP or RCP is a guardrail; a missing permission is denied."""
    error = ClientError(
        {
            "Error": {"Code": "AccessDeniedException", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        "ListFlows",
    )
    translated = translate(error)
    assert translated is not None
    assert translated.kind is kind
