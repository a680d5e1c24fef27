"""Columns that name a resource of the same scope, resolved to its ARN (`Link`).

A link names its target as AppFlow does, by name: a flow names the connector profiles it
uses, a profile names its custom connector by label. Each is resolved to the live target of
that name in the account and region of the record it belongs to, again for every scope a
batch writes: a target created after the record is linked on the next run, and a deleted
target's links go NULL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .._model.resource import Link
from .._model.scopes import Scope
from .chunks import chunks
from .schema import metadata
from .scopes_in import in_scopes
from .tables import tables_of


async def resolve_links(
    conn: AsyncConnection, links: Sequence[Link], scopes: Sequence[Scope]
) -> None:
    """Point every link of the records of `scopes` at its live target, or at NULL. Only the
    links whose target changed are written."""
    pairs = sorted({(scope.account_id, scope.region) for scope in scopes})
    for link in links:
        for chunk in chunks(pairs, 200):
            await conn.execute(_resolution(link, chunk))


def _resolution(link: Link, scopes: list[tuple[str, str]]) -> sa.Update:
    table = metadata.tables[link.table]
    owner = tables_of(link.owner).table.alias("owner")
    target = tables_of(link.target).table
    row, o, t = table.c, owner.c, target.c
    owner_key = link.owner.key
    resolved = (
        sa.select(sa.func.max(t[link.target.key]))
        .select_from(
            target.join(owner, sa.and_(t.account_id == o.account_id, t.region == o.region))
        )
        .where(
            o[owner_key] == row[owner_key],
            t[link.target.name_column] == row[link.name],
            t.deleted_at.is_(None),
        )
        .scalar_subquery()
    )
    owners = sa.select(o[owner_key]).where(in_scopes(o.account_id, o.region, scopes))
    return (
        sa.update(table)
        .where(row[owner_key].in_(owners), row[link.arn].is_distinct_from(resolved))
        .values({link.arn: resolved})
    )
