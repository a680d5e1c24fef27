"""Flows in the inventory: their rows, their links to connector profiles, and the digests a
run reads first so that unchanged flows are not described again.

A link names a connector profile as the flow does, by name; its `connector_profile_arn` is
resolved to the live profile of that name in the flow's account and region, and resolved
again for every scope a batch writes, so a profile created after its flow is linked on the
next run and a deleted profile's links go NULL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .._model.flows import FlowRecord, KnownFlow
from .._model.profiles import changed_paths
from .._model.scopes import FLOWS, Scope
from .chunks import chunks
from .schema import connector_profiles, flow_connector_profiles, flow_versions, flows
from .spec import Children, ResourceSpec


def _flow_row(record: FlowRecord, version: int, now: datetime) -> dict[str, Any]:
    details = record.details
    # Only a flow described in this run is created, updated or restored.
    assert details is not None, record.arn
    return {
        "flow_arn": record.arn,
        "account_id": record.account_id,
        "region": record.region,
        "flow_name": details.name,
        "flow_status": details.status,
        "trigger_type": details.trigger_type,
        "source_connector_type": details.source_connector_type,
        "source_connector_label": details.source_connector_label,
        "destination_connector_type": details.destination_connector_type,
        "destination_connector_label": details.destination_connector_label,
        "kms_arn": details.kms_arn,
        "description": details.description,
        "created_by": details.created_by,
        "last_updated_by": details.last_updated_by,
        "created_at": details.created_at,
        "last_updated_at": details.last_updated_at,
        **_last_run(record),
        "tags": details.tags,
        "details": details.snapshot,
        "definition_hash": record.definition_hash,
        "content_hash": record.content_hash,
        "version": version,
        "first_seen_at": now,
        "last_seen_at": now,
        "deleted_at": None,
    }


def _last_run(record: FlowRecord) -> dict[str, Any]:
    run = record.last_run
    return {"last_run_status": run.status, "last_run_at": run.at, "last_run_message": run.message}


def _link_rows(record: FlowRecord) -> Iterator[dict[str, Any]]:
    for link in () if record.details is None else record.details.links:
        yield {
            "flow_arn": record.arn,
            "role": link.role,
            "position": link.position,
            "connector_profile_name": link.connector_profile_name,
            "connector_profile_arn": None,  # resolved once the batch is written
        }


FLOW_SPEC = ResourceSpec(
    name=FLOWS,
    table=flows,
    versions=flow_versions,
    key="flow_arn",
    row=_flow_row,
    changed_fields=changed_paths,
    # A deleted flow keeps its last links, as its row keeps its last state: what used a
    # profile stays answerable after the flow is gone.
    children=(Children(flow_connector_profiles, _link_rows, cleared_on_delete=False),),
    # The last run changes without the flow changing: refreshed on every sighting.
    seen_columns=("last_run_status", "last_run_at", "last_run_message"),
    seen=_last_run,
)


async def link_profiles(conn: AsyncConnection, scopes: Sequence[Scope]) -> None:
    """Point each link of the flows of `scopes` at the live profile it names, or at NULL.

    Only links whose target changed are written.
    """
    link, flow, profile = flow_connector_profiles.c, flows.c, connector_profiles.c
    target = (
        sa.select(sa.func.max(profile.connector_profile_arn))
        .select_from(
            connector_profiles.join(
                flows,
                sa.and_(profile.account_id == flow.account_id, profile.region == flow.region),
            )
        )
        .where(
            flow.flow_arn == link.flow_arn,
            profile.connector_profile_name == link.connector_profile_name,
            profile.deleted_at.is_(None),
        )
        .scalar_subquery()
    )
    for chunk in chunks([(s.account_id, s.region) for s in scopes], 200):
        in_scopes = sa.select(flow.flow_arn).where(
            sa.tuple_(flow.account_id, flow.region).in_(chunk)
        )
        await conn.execute(
            sa.update(flow_connector_profiles)
            .where(
                link.flow_arn.in_(in_scopes), link.connector_profile_arn.is_distinct_from(target)
            )
            .values(connector_profile_arn=target)
        )


async def stored_flow_digests(
    conn: AsyncConnection, account_ids: Sequence[str]
) -> dict[str, KnownFlow]:
    """The digests of every live flow of these accounts, by ARN."""
    f = flows.c
    known: dict[str, KnownFlow] = {}
    for chunk in chunks(sorted(set(account_ids))):
        query = sa.select(f.flow_arn, f.definition_hash, f.content_hash).where(
            f.account_id.in_(chunk), f.deleted_at.is_(None)
        )
        for arn, definition, content in await conn.execute(query):
            known[arn] = KnownFlow(definition, content)
    return known
