"""Connector profiles: `DescribeConnectorProfiles` pages, each item a whole profile.

A profile is stored as the API returned it (its snapshot, timestamps as ISO-8601 UTC), with
typed columns for the questions people ask, and its `connectorProfileProperties` flattened
into `connector_profile_properties`, one row per leaf, for plain SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..resource import Api, Child, ListingFilter, Resource
from ..wire import (
    UnstorableRecord,
    checked_digest,
    read_object,
    read_text,
    read_timestamp,
    warn_kept,
    with_iso_times,
)

TIMESTAMP_FIELDS = ("createdAt", "lastUpdatedAt")
PROPERTIES_TABLE = "connector_profile_properties"
# The API takes at most this many names in one `connectorProfileNames`.
MAX_NAMES_PER_CALL = 100

# Members that the API model declares as maps (free-form keys) rather than structures. Maps
# are kept whole as one JSON value; structures are walked into dotted paths.
_MAP_PATHS = frozenset(
    {
        ("CustomConnector", "profileProperties"),
        ("CustomConnector", "oAuth2Properties", "tokenUrlCustomProperties"),
    }
)


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    """One connector profile, normalized: the columns of `connector_profiles`."""

    arn: str
    account_id: str
    region: str
    name: str | None
    connector_type: str | None
    connector_label: str | None
    connection_mode: str | None
    credentials_arn: str | None
    created_at: datetime | None
    last_updated_at: datetime | None
    private_connection_status: str | None
    private_connection_failure_cause: str | None
    private_connection_failure_message: str | None
    properties: dict[str, Any]
    snapshot: dict[str, Any]
    content_hash: str

    def row(self) -> dict[str, Any]:
        return {
            "connector_profile_name": self.name,
            "connector_type": self.connector_type,
            "connector_label": self.connector_label,
            "connection_mode": self.connection_mode,
            "credentials_arn": self.credentials_arn,
            "created_at": self.created_at,
            "last_updated_at": self.last_updated_at,
            "private_connection_status": self.private_connection_status,
            "private_connection_failure_cause": self.private_connection_failure_cause,
            "private_connection_failure_message": self.private_connection_failure_message,
            "properties": self.properties,
        }

    def seen(self) -> dict[str, Any]:
        return {}

    def children(self) -> Mapping[str, Iterable[dict[str, Any]]]:
        rows = (
            {"connector_profile_arn": self.arn, "connector": c, "path": p, "value": v}
            for c, p, v in flatten_properties(self.properties)
        )
        return {PROPERTIES_TABLE: rows}


def normalize_profile(raw: Mapping[str, Any], account_id: str, region: str) -> ProfileRecord:
    """Normalize one profile of the (account, region) scope it was listed in.

    Raises `UnstorableRecord` only for a profile that cannot be stored at all; a value that
    cannot be read into its column leaves the column NULL and is logged once.
    """
    arn = raw.get("connectorProfileArn")
    if not isinstance(arn, str) or not arn:
        raise UnstorableRecord(f"profile {raw.get('connectorProfileName')!r} has no ARN")
    snapshot = make_snapshot(raw)
    content_hash = checked_digest(arn, snapshot)
    problems: list[str] = []
    properties = read_object(snapshot, "connectorProfileProperties", problems)
    state = read_object(snapshot, "privateConnectionProvisioningState", problems)
    record = ProfileRecord(
        arn=arn,
        account_id=account_id,
        region=region,
        name=read_text(snapshot, "connectorProfileName", problems),
        connector_type=read_text(snapshot, "connectorType", problems),
        connector_label=read_text(snapshot, "connectorLabel", problems),
        connection_mode=read_text(snapshot, "connectionMode", problems),
        credentials_arn=read_text(snapshot, "credentialsArn", problems),
        created_at=read_timestamp(raw, "createdAt", problems),
        last_updated_at=read_timestamp(raw, "lastUpdatedAt", problems),
        private_connection_status=read_text(state, "status", problems),
        private_connection_failure_cause=read_text(state, "failureCause", problems),
        private_connection_failure_message=read_text(state, "failureMessage", problems),
        properties=properties,
        snapshot=snapshot,
        content_hash=content_hash,
    )
    warn_kept(arn, problems)
    return record


def make_snapshot(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The profile as the API returned it, with timestamps as ISO-8601 UTC strings.

    A timestamp that cannot be read as a time is kept exactly as sent.
    """
    return with_iso_times(raw, ((key,) for key in TIMESTAMP_FIELDS))


def flatten_properties(properties: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """Yield `(connector, path, value)` for every leaf of `connectorProfileProperties`.

    Structures become dotted paths; lists and maps are leaves, their value JSON text.
    Strings are kept as they are; numbers and booleans are JSON text (`true`, `443`).
    """
    for connector, block in properties.items():
        if isinstance(block, dict):
            for path, value in _walk(block, (connector,)):
                yield connector, ".".join(path[1:]), _leaf_text(value)
        else:
            yield connector, "", _leaf_text(block)


def _walk(
    node: Mapping[str, Any], prefix: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in node.items():
        path = (*prefix, key)
        if isinstance(value, dict) and path not in _MAP_PATHS:
            yield from _walk(value, path)
        else:
            yield path, value


def _leaf_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def profile_requests(selection: ListingFilter) -> Iterator[dict[str, Any]]:
    """The request parameters of each independent listing a filter needs: the names are
    asked for at most `MAX_NAMES_PER_CALL` at a time."""
    base: dict[str, Any] = {}
    if selection.connector_type:
        base["connectorType"] = selection.connector_type
    if selection.connector_label:
        base["connectorLabel"] = selection.connector_label
    if not selection.profile_names:
        yield base
        return
    names = list(dict.fromkeys(selection.profile_names))
    for start in range(0, len(names), MAX_NAMES_PER_CALL):
        yield {**base, "connectorProfileNames": names[start : start + MAX_NAMES_PER_CALL]}


def _normalize(
    item: Mapping[str, Any], detail: Mapping[str, Any] | None, account_id: str, region: str
) -> ProfileRecord:
    return normalize_profile(item, account_id, region)


PROFILES = Resource(
    name="profiles",
    singular="profile",
    title="connector profiles",
    api=Api(
        operation="DescribeConnectorProfiles",
        items="connectorProfileDetails",
        requests=profile_requests,
        filterable=True,
    ),
    normalize=_normalize,
    table="connector_profiles",
    key="connector_profile_arn",
    versions="connector_profile_versions",
    name_column="connector_profile_name",
    show_columns=("connector_type", "connector_profile_name"),
    change_columns=("connector_type", "connector_profile_name"),
    type_columns=("connector_type",),
    children=(Child(PROPERTIES_TABLE, cleared_on_delete=True),),
    map_paths=frozenset(("connectorProfileProperties", *path) for path in _MAP_PATHS),
    run_columns="profiles",
    legacy_metrics=("profiles_seen", "changes"),
)
