"""What the store tells the next run about the last one: which scopes took several pages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from collector import upgrade
from collector._model.run import RunResult, RunStatus
from collector._model.scopes import Scope, ScopeOutcome
from collector._store import Store, create_engine

from ..support import scope_outcome

AT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)


def outcome(account: str, region: str, pages: int) -> ScopeOutcome:
    return scope_outcome(Scope(account, region), AT, pages=pages)


def test_paged_scopes_come_from_the_latest_finished_run_of_the_shard(database_url: str) -> None:
    """Only the latest finished run of the same shard counts, and only scopes of 2+ pages;
    a run still in progress (this one) is not the latest."""

    async def go() -> tuple[dict[tuple[str, str], int], ...]:
        engine = create_engine(database_url)
        try:
            await upgrade(engine)
            store = Store(engine)
            nothing_yet = await store.paged_scopes(None)
            for number, (pages, shard) in enumerate([(7, None), (40, "0/2"), (9, None)]):
                run_id = f"run-{number}"
                started = AT + timedelta(hours=number)
                await store.begin_run(
                    RunResult(run_id, started), filtered=False, run_label=None, shard=shard
                )
                await store.write_scopes(
                    run_id,
                    [
                        outcome("111111111111", "eu-west-1", pages),
                        outcome("111111111111", "us-east-1", 1),
                    ],
                )
                finished = RunResult(run_id, started, status=RunStatus.SUCCEEDED)
                finished.finished_at = started
                await store.finish_run(finished)
            in_progress = RunResult("in-progress", AT + timedelta(days=1))
            await store.begin_run(in_progress, filtered=False, run_label=None, shard=None)
            return nothing_yet, await store.paged_scopes(None), await store.paged_scopes("0/2")
        finally:
            await engine.dispose()

    nothing_yet, unsharded, shard = asyncio.run(go())
    assert nothing_yet == {}
    assert unsharded == {("111111111111", "eu-west-1"): 9}
    assert shard == {("111111111111", "eu-west-1"): 40}
