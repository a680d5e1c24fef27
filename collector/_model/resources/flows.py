"""Flows: `ListFlows` summaries, and `DescribeFlow` for the new and changed ones.

A flow is read from two answers: its `ListFlows` definition (status, trigger, connector
types and labels, tags, the last run) and its `DescribeFlow` answer (the source and
destination configurations that name connector profiles, the tasks, the trigger, the KMS
key). The versioned snapshot is both merged, timestamps as ISO-8601 UTC, without the last
run (`lastRunExecutionDetails`, `lastRunMetadataCatalogDetails`): a flow scheduled every hour
runs every hour, and each run must not make a new version. The last run goes to the `flows`
row on every sighting instead. Each connector profile a flow names is a row of
`flow_connector_profiles`, linked to the live profile of that name in its scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..resource import Api, Child, Describe, Link, Resource
from ..wire import (
    checked_digest,
    digest,
    read_object,
    read_text,
    read_timestamp,
    required_text,
    warn_kept,
    with_iso_times,
)
from .profiles import PROFILES

# What changes with every run of a flow, not with the flow: kept out of its versions.
VOLATILE_FIELDS = ("lastRunExecutionDetails", "lastRunMetadataCatalogDetails")
_TIMESTAMP_PATHS = (
    ("createdAt",),
    ("lastUpdatedAt",),
    ("triggerConfig", "triggerProperties", "Scheduled", "scheduleStartTime"),
    ("triggerConfig", "triggerProperties", "Scheduled", "scheduleEndTime"),
    ("triggerConfig", "triggerProperties", "Scheduled", "firstExecutionFrom"),
)
LINKS_TABLE = "flow_connector_profiles"
SOURCE = "source"
DESTINATION = "destination"


@dataclass(frozen=True, slots=True)
class FlowLink:
    """A connector profile a flow names: as its source, or as one of its destinations."""

    role: str
    position: int
    """0 for the source; a destination's index in `destinationFlowConfigList`."""
    connector_profile_name: str


@dataclass(frozen=True, slots=True)
class LastRun:
    """The flow's most recent execution, as its definition reports it."""

    status: str | None = None
    at: datetime | None = None
    message: str | None = None

    def columns(self) -> dict[str, Any]:
        return {
            "last_run_status": self.status,
            "last_run_at": self.at,
            "last_run_message": self.message,
        }


@dataclass(frozen=True, slots=True)
class FlowDetails:
    """What a described flow adds: the typed columns of `flows`, its snapshot and links."""

    name: str | None
    status: str | None
    trigger_type: str | None
    source_connector_type: str | None
    source_connector_label: str | None
    destination_connector_type: str | None
    destination_connector_label: str | None
    kms_arn: str | None
    description: str | None
    created_by: str | None
    last_updated_by: str | None
    created_at: datetime | None
    last_updated_at: datetime | None
    tags: dict[str, Any]
    snapshot: dict[str, Any]
    links: tuple[FlowLink, ...]


@dataclass(frozen=True, slots=True)
class FlowRecord:
    """One flow as listed and described in a scope."""

    arn: str
    account_id: str
    region: str
    definition_hash: str
    content_hash: str
    last_run: LastRun
    details: FlowDetails

    @property
    def snapshot(self) -> dict[str, Any]:
        return self.details.snapshot

    def row(self) -> dict[str, Any]:
        details = self.details
        return {
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
            **self.last_run.columns(),
            "tags": details.tags,
            "details": details.snapshot,
            "definition_hash": self.definition_hash,
        }

    def seen(self) -> dict[str, Any]:
        return self.last_run.columns()

    def children(self) -> Mapping[str, Iterable[dict[str, Any]]]:
        rows = (
            {
                "flow_arn": self.arn,
                "role": link.role,
                "position": link.position,
                "connector_profile_name": link.connector_profile_name,
                "connector_profile_arn": None,  # resolved once the batch is written
            }
            for link in self.details.links
        )
        return {LINKS_TABLE: rows}


def flow_key(definition: Mapping[str, Any]) -> str:
    """The ARN of a listed flow; `UnstorableRecord` if it, or the name `DescribeFlow` asks
    for, is missing."""
    arn = required_text(definition, "flowArn", f"flow {definition.get('flowName')!r} has no ARN")
    required_text(definition, "flowName", f"{arn}: the flow has no name")
    return arn


def definition_hash(definition: Mapping[str, Any]) -> str:
    """A digest of a flow's definition without its last run: while it stays the same, the
    flow has not changed and need not be described again."""
    return digest(make_snapshot(definition))


def last_run_of(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The last-run columns a definition gives (for a flow sighted unchanged)."""
    problems: list[str] = []
    columns = _last_run(raw, problems).columns()
    warn_kept(str(raw.get("flowArn")), problems)
    return columns


def normalize_flow(
    definition: Mapping[str, Any], description: Mapping[str, Any], account_id: str, region: str
) -> FlowRecord:
    """Normalize a flow from its `ListFlows` definition and its `DescribeFlow` answer.

    Raises `UnstorableRecord` only for a flow that cannot be stored at all; a value that
    cannot be read into its column leaves the column NULL and is logged once.
    """
    arn = flow_key(definition)
    snapshot = make_snapshot({**definition, **description})
    content_hash = checked_digest(arn, snapshot)
    problems: list[str] = []
    source = read_object(snapshot, "sourceFlowConfig", problems)
    destinations = _destinations(snapshot, problems)
    first = destinations[0] if destinations else {}
    trigger = read_object(snapshot, "triggerConfig", problems)
    details = FlowDetails(
        name=read_text(snapshot, "flowName", problems),
        status=read_text(snapshot, "flowStatus", problems),
        trigger_type=_first_text(problems, (snapshot, "triggerType"), (trigger, "triggerType")),
        source_connector_type=_first_text(
            problems, (snapshot, "sourceConnectorType"), (source, "connectorType")
        ),
        source_connector_label=read_text(snapshot, "sourceConnectorLabel", problems),
        destination_connector_type=_first_text(
            problems, (snapshot, "destinationConnectorType"), (first, "connectorType")
        ),
        destination_connector_label=read_text(snapshot, "destinationConnectorLabel", problems),
        kms_arn=read_text(snapshot, "kmsArn", problems),
        description=read_text(snapshot, "description", problems),
        created_by=read_text(snapshot, "createdBy", problems),
        last_updated_by=read_text(snapshot, "lastUpdatedBy", problems),
        created_at=read_timestamp(snapshot, "createdAt", problems),
        last_updated_at=read_timestamp(snapshot, "lastUpdatedAt", problems),
        tags=read_object(snapshot, "tags", problems),
        snapshot=snapshot,
        links=_links(source, destinations, problems),
    )
    record = FlowRecord(
        arn=arn,
        account_id=account_id,
        region=region,
        definition_hash=definition_hash(definition),
        content_hash=content_hash,
        last_run=_last_run({**description, **definition}, problems),
        details=details,
    )
    warn_kept(arn, problems)
    return record


def make_snapshot(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The flow as the API returned it without its last run, timestamps as ISO-8601 UTC.

    A timestamp that cannot be read as a time is kept exactly as sent.
    """
    kept = {key: value for key, value in raw.items() if key not in VOLATILE_FIELDS}
    return with_iso_times(kept, _TIMESTAMP_PATHS)


def _links(
    source: Mapping[str, Any], destinations: list[dict[str, Any]], problems: list[str]
) -> tuple[FlowLink, ...]:
    links: list[FlowLink] = []
    name = read_text(source, "connectorProfileName", problems, "sourceFlowConfig.")
    if name:
        links.append(FlowLink(SOURCE, 0, name))
    for position, destination in enumerate(destinations):
        where = f"destinationFlowConfigList[{position}]."
        name = read_text(destination, "connectorProfileName", problems, where)
        if name:
            links.append(FlowLink(DESTINATION, position, name))
    return tuple(links)


def _destinations(snapshot: Mapping[str, Any], problems: list[str]) -> list[dict[str, Any]]:
    value = snapshot.get("destinationFlowConfigList")
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"destinationFlowConfigList is {type(value).__name__}, not a list")
        return []
    found: list[dict[str, Any]] = []
    for position, item in enumerate(value):
        if isinstance(item, dict):
            found.append(item)
        else:
            problems.append(f"destinationFlowConfigList[{position}] is not an object")
            found.append({})
    return found


def _last_run(raw: Mapping[str, Any], problems: list[str]) -> LastRun:
    details = raw.get("lastRunExecutionDetails")
    if details is None:
        return LastRun()
    if not isinstance(details, dict):
        problems.append(f"lastRunExecutionDetails is {type(details).__name__}, not an object")
        return LastRun()
    return LastRun(
        status=read_text(details, "mostRecentExecutionStatus", problems),
        at=read_timestamp(details, "mostRecentExecutionTime", problems),
        message=read_text(details, "mostRecentExecutionMessage", problems),
    )


def _first_text(problems: list[str], *candidates: tuple[Mapping[str, Any], str]) -> str | None:
    """The first of several places that holds the value (the definition's, then the
    configuration's)."""
    for mapping, key in candidates:
        if mapping.get(key) is not None:
            return read_text(mapping, key, problems)
    return None


def _normalize(
    definition: Mapping[str, Any],
    description: Mapping[str, Any] | None,
    account_id: str,
    region: str,
) -> FlowRecord:
    return normalize_flow(definition, description or {}, account_id, region)


FLOWS = Resource(
    name="flows",
    singular="flow",
    title="flows",
    api=Api(
        operation="ListFlows",
        items="flows",
        describe=Describe(
            operation="DescribeFlow",
            key=flow_key,
            request=lambda definition: {"flowName": definition["flowName"]},
            summary_hash=definition_hash,
            key_column="flow_arn",
            hash_column="definition_hash",
            seen=last_run_of,
        ),
    ),
    normalize=_normalize,
    table="flows",
    key="flow_arn",
    versions="flow_versions",
    name_column="flow_name",
    show_columns=(
        "flow_name",
        "flow_status",
        "trigger_type",
        "source_connector_type",
        "destination_connector_type",
    ),
    change_columns=("flow_name", "source_connector_type", "destination_connector_type"),
    type_columns=("source_connector_type", "destination_connector_type"),
    # A deleted flow keeps its last links, as its row keeps its last state: what used a
    # profile stays answerable after the flow is gone.
    children=(Child(LINKS_TABLE, cleared_on_delete=False),),
    # The last run changes without the flow changing: refreshed on every sighting.
    seen_columns=("last_run_status", "last_run_at", "last_run_message"),
    run_columns="flows",
    legacy_metrics=("flows_seen", "flow_changes"),
)

PROFILE_LINKS = Link(
    owner=FLOWS,
    table=LINKS_TABLE,
    name="connector_profile_name",
    arn="connector_profile_arn",
    target=PROFILES,
)
"""Each profile a flow names, resolved to the live profile of that name in its scope."""
