"""Turn AppFlow flows as the API returned them into rows. Pure functions, no I/O.

A flow is read from two answers, both decoded from the body as AWS sent it: its `ListFlows`
definition (status, trigger, connector types and labels, tags, the last run), and, when the
flow is new or its definition changed, its `DescribeFlow` answer (the source and destination
configurations that name connector profiles, the tasks, the trigger, the KMS key).

The versioned snapshot is both answers merged, timestamps as ISO-8601 UTC, without the last
run (`lastRunExecutionDetails`, `lastRunMetadataCatalogDetails`): a flow scheduled every hour
runs every hour, and each run must not make a new version. The last run goes to the `flows`
row on every sighting instead. The tolerance rules are the profiles': an odd value leaves its
column NULL, is kept as sent in the snapshot, and is logged; only a flow without an ARN or a
name, or with a NUL character or a lone surrogate in what is versioned, cannot be stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .profiles import (
    ProfileDataError,
    canonical_json,
    iso_utc,
    parse_timestamp,
    read_text,
    read_timestamp,
    unstorable,
    warn_kept,
)

# What changes with every run of a flow, not with the flow: kept out of its versions.
VOLATILE_FIELDS = ("lastRunExecutionDetails", "lastRunMetadataCatalogDetails")
_TIMESTAMP_PATHS = (
    ("createdAt",),
    ("lastUpdatedAt",),
    ("triggerConfig", "triggerProperties", "Scheduled", "scheduleStartTime"),
    ("triggerConfig", "triggerProperties", "Scheduled", "scheduleEndTime"),
    ("triggerConfig", "triggerProperties", "Scheduled", "firstExecutionFrom"),
)
SOURCE = "source"
DESTINATION = "destination"


class FlowDataError(ValueError):
    """A flow the API returned that cannot be stored at all (no ARN or name, a NUL, a lone
    surrogate)."""


@dataclass(frozen=True, slots=True)
class KnownFlow:
    """What the store holds of a live flow: the digests of its definition and snapshot."""

    definition_hash: str
    content_hash: str


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
    """One flow as listed in a scope.

    `details` is None when the flow was not described in this run because its definition is
    the one stored: then `content_hash` is the stored one, and only the sighting (and the
    last run) is written.
    """

    arn: str
    account_id: str
    region: str
    definition_hash: str
    content_hash: str
    last_run: LastRun
    details: FlowDetails | None = None

    @property
    def snapshot(self) -> dict[str, Any] | None:
        return None if self.details is None else self.details.snapshot


def flow_key(definition: Mapping[str, Any]) -> tuple[str, str]:
    """The ARN and name of a listed flow; `FlowDataError` if either is missing.

    The name is what `DescribeFlow` asks for.
    """
    arn = definition.get("flowArn")
    name = definition.get("flowName")
    if not isinstance(arn, str) or not arn:
        raise FlowDataError(f"flow {name!r} has no ARN")
    if not isinstance(name, str) or not name:
        raise FlowDataError(f"{arn}: the flow has no name")
    return arn, name


def definition_hash(definition: Mapping[str, Any]) -> str:
    """A digest of a flow's definition without its last run: while it stays the same, the
    flow has not changed and need not be described again."""
    # surrogatepass: a lone surrogate must not stop the digest (the flow is refused later).
    canonical = canonical_json(make_snapshot(definition))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def sighted_flow(
    definition: Mapping[str, Any], account_id: str, region: str, content_hash: str
) -> FlowRecord:
    """A flow listed unchanged since it was stored (its stored digest is `content_hash`)."""
    arn, _ = flow_key(definition)
    problems: list[str] = []
    record = FlowRecord(
        arn=arn,
        account_id=account_id,
        region=region,
        definition_hash=definition_hash(definition),
        content_hash=content_hash,
        last_run=_last_run(definition, problems),
    )
    warn_kept(arn, problems)
    return record


def normalize_flow(
    definition: Mapping[str, Any], description: Mapping[str, Any], account_id: str, region: str
) -> FlowRecord:
    """Normalize a flow from its `ListFlows` definition and its `DescribeFlow` answer.

    Raises `FlowDataError` only for a flow that cannot be stored at all; a value that cannot
    be read into its column leaves the column NULL and is logged once.
    """
    arn, _ = flow_key(definition)
    snapshot = make_snapshot({**definition, **description})
    canonical = canonical_json(snapshot)
    problem = unstorable(canonical)
    if problem:
        # Storing part of the flow would lie.
        raise FlowDataError(f"{arn}: {problem}")
    problems: list[str] = []
    source = _object(snapshot, "sourceFlowConfig", problems)
    destinations = _destinations(snapshot, problems)
    first = destinations[0] if destinations else {}
    trigger = _object(snapshot, "triggerConfig", problems)
    tags = _object(snapshot, "tags", problems)
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
        tags=tags,
        snapshot=snapshot,
        links=_links(source, destinations, problems),
    )
    record = FlowRecord(
        arn=arn,
        account_id=account_id,
        region=region,
        definition_hash=definition_hash(definition),
        content_hash=hashlib.sha256(canonical.encode()).hexdigest(),
        last_run=_last_run({**description, **definition}, problems),
        details=details,
    )
    warn_kept(arn, problems)
    return record


def make_snapshot(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The flow as the API returned it without its last run, timestamps as ISO-8601 UTC.

    A timestamp that cannot be read as a time is kept exactly as sent.
    """
    snapshot = {key: value for key, value in raw.items() if key not in VOLATILE_FIELDS}
    for path in _TIMESTAMP_PATHS:
        snapshot = _with_iso_time(snapshot, path)
    return snapshot


def _with_iso_time(node: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """`node` with the timestamp at `path` as ISO-8601 UTC (copied on the way, never changed
    in place: the answer as decoded stays what AWS sent)."""
    key, rest = path[0], path[1:]
    if key not in node:
        return node
    value = node[key]
    if rest:
        return {**node, key: _with_iso_time(value, rest)} if isinstance(value, dict) else node
    try:
        stamp = parse_timestamp(value)
    except ProfileDataError:
        return node
    return {**node, key: None if stamp is None else iso_utc(stamp)}


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


def _object(mapping: Mapping[str, Any], key: str, problems: list[str]) -> dict[str, Any]:
    value = mapping.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{key} is {type(value).__name__}, not an object")
        return {}
    return value


def _first_text(problems: list[str], *candidates: tuple[Mapping[str, Any], str]) -> str | None:
    """The first of several places that holds the value (the definition's, then the
    configuration's)."""
    for mapping, key in candidates:
        if mapping.get(key) is not None:
            return read_text(mapping, key, problems)
    return None
