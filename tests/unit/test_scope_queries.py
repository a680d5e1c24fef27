"""The statements a batch runs per set of scopes search the (account_id, region) index."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from collector._model.resources import LINKS, PROFILES
from collector._store.links import _resolution
from collector._store.schema import metadata
from collector._store.scopes_in import in_scopes
from collector._store.tables import tables_of

SCOPES = [(f"{n:012d}", region) for n in range(40) for region in ("us-east-1", "eu-west-1")]


def _plan(engine: sa.Engine, statement: sa.ClauseElement) -> list[str]:
    compiled: Any = statement.compile(
        dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.construct_params()
    args = [params[name] for name in compiled.positiontup]
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(args))
        return [str(row[3]) for row in rows]


def _engine(tmp_path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    metadata.create_all(engine)
    return engine


def test_a_batchs_stored_records_are_searched_not_scanned(tmp_path: Path) -> None:
    """Selecting the records of a batch's scopes searches the index rather than reading
    the whole table (a scan per batch made large inventories quadratic)."""
    engine = _engine(tmp_path)
    table = tables_of(PROFILES).table
    query = sa.select(table.c.connector_profile_arn).where(
        in_scopes(table.c.account_id, table.c.region, SCOPES)
    )
    plan = _plan(engine, query)
    assert any(step.startswith("SEARCH connector_profiles USING INDEX") for step in plan), plan
    assert not any(step.startswith("SCAN connector_profiles") for step in plan), plan


def test_link_resolution_searches_every_table_it_reads(tmp_path: Path) -> None:
    """Resolving the links of a batch's scopes reads no table in full."""
    engine = _engine(tmp_path)
    for link in LINKS:
        plan = _plan(engine, _resolution(link, SCOPES))
        scans = [step for step in plan if step.startswith("SCAN") and "CONSTANT ROWS" not in step]
        assert scans == [], (link.table, plan)


def test_the_scope_filter_keeps_exactly_the_scopes_named(tmp_path: Path) -> None:
    """The filter selects the rows of the named (account, region) pairs, not every region of
    the accounts named."""
    engine = _engine(tmp_path)
    table = tables_of(PROFILES).table
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "connector_profile_arn": f"arn:{account}:{region}",
            "account_id": account,
            "region": region,
            "properties": {},
            "content_hash": "h",
            "version": 1,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for account in ("000000000001", "000000000002")
        for region in ("us-east-1", "eu-west-1")
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(table), rows)
        query = sa.select(table.c.connector_profile_arn).where(
            in_scopes(table.c.account_id, table.c.region, [("000000000001", "eu-west-1")])
        )
        assert list(conn.scalars(query)) == ["arn:000000000001:eu-west-1"]
