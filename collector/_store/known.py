"""What the store holds of the live records listed as summaries, read once per run: a
listed summary that matches needs no detail call."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .._model.resource import Known, Resource
from .chunks import chunks
from .tables import tables_of


async def known_records(
    conn: AsyncConnection, resource: Resource, account_ids: Sequence[str]
) -> dict[tuple[str, str, str], Known]:
    """(account id, region, key) -> `Known`, for every live record of `resource` in these
    accounts; empty for a resource whose listing gives whole records."""
    describe = resource.api.describe
    if describe is None:
        return {}
    tables = tables_of(resource)
    t = tables.table.c
    known: dict[tuple[str, str, str], Known] = {}
    for chunk in chunks(sorted(set(account_ids))):
        query = sa.select(
            t.account_id,
            t.region,
            t[describe.key_column],
            tables.arn,
            t[describe.hash_column],
            t.content_hash,
            t.described_at,
        ).where(t.account_id.in_(chunk), t.deleted_at.is_(None))
        for (
            account_id,
            region,
            key,
            arn,
            summary_hash,
            content_hash,
            described_at,
        ) in await conn.execute(query):
            known[(account_id, region, key)] = Known(arn, summary_hash, content_hash, described_at)
    return known
