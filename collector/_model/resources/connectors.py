"""Registered custom connectors: `ListConnectors` summaries, and `DescribeConnector` for the
new and changed ones.

`ListConnectors` lists the custom connectors registered in an account and region (not the
connectors AWS provides), keyed by their label and without their ARN; `DescribeConnector`
(`connectorType=CustomConnector` and the label) gives the registration: its ARN, version,
owner and the Lambda function that runs it. The versioned snapshot is both answers merged,
timestamps as ISO-8601 UTC. A connector profile of type `CustomConnector` names its
registration by `connectorLabel`: `connector_profiles.custom_connector_arn` links the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..resource import Api, Describe, Link, Resource
from ..wire import (
    UnstorableRecord,
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

_TIMESTAMP_PATHS = (("registeredAt",),)


@dataclass(frozen=True, slots=True)
class ConnectorRecord:
    """One registered custom connector, normalized: the columns of `custom_connectors`."""

    arn: str
    account_id: str
    region: str
    label: str
    name: str | None
    version: str | None
    owner: str | None
    provisioning_type: str | None
    lambda_arn: str | None
    registered_at: datetime | None
    registered_by: str | None
    summary_hash: str
    snapshot: dict[str, Any]
    content_hash: str

    def row(self) -> dict[str, Any]:
        return {
            "connector_label": self.label,
            "connector_name": self.name,
            "connector_version": self.version,
            "connector_owner": self.owner,
            "provisioning_type": self.provisioning_type,
            "lambda_arn": self.lambda_arn,
            "registered_at": self.registered_at,
            "registered_by": self.registered_by,
            "details": self.snapshot,
            "summary_hash": self.summary_hash,
        }

    def seen(self) -> dict[str, Any]:
        return {}

    def children(self) -> Mapping[str, Iterable[dict[str, Any]]]:
        return {}


def connector_key(summary: Mapping[str, Any]) -> str:
    """The label of a listed connector (what `DescribeConnector` asks for); `UnstorableRecord`
    if it has none."""
    return required_text(summary, "connectorLabel", "a listed custom connector has no label")


def summary_hash(summary: Mapping[str, Any]) -> str:
    """A digest of a connector's `ListConnectors` entry: while it stays the same (same
    version, same registration time), the registration has not changed."""
    return digest(make_snapshot(summary))


def normalize_connector(
    summary: Mapping[str, Any], configuration: Mapping[str, Any], account_id: str, region: str
) -> ConnectorRecord:
    """Normalize a connector from its `ListConnectors` entry and its `DescribeConnector`
    configuration.

    Raises `UnstorableRecord` only for a connector that cannot be stored at all (no label
    or ARN, a NUL, a lone surrogate); a value that cannot be read into its column leaves the
    column NULL and is logged once.
    """
    label = connector_key(summary)
    snapshot = make_snapshot({**summary, **configuration})
    arn = required_text(snapshot, "connectorArn", f"custom connector {label!r} has no ARN")
    content_hash = checked_digest(arn, snapshot)
    problems: list[str] = []
    provisioning = read_object(snapshot, "connectorProvisioningConfig", problems)
    function = read_object(provisioning, "lambda", problems)
    record = ConnectorRecord(
        arn=arn,
        account_id=account_id,
        region=region,
        label=label,
        name=read_text(snapshot, "connectorName", problems),
        version=read_text(snapshot, "connectorVersion", problems),
        owner=read_text(snapshot, "connectorOwner", problems),
        provisioning_type=read_text(snapshot, "connectorProvisioningType", problems),
        lambda_arn=read_text(function, "lambdaArn", problems, "connectorProvisioningConfig."),
        registered_at=read_timestamp(snapshot, "registeredAt", problems),
        registered_by=read_text(snapshot, "registeredBy", problems),
        summary_hash=summary_hash(summary),
        snapshot=snapshot,
        content_hash=content_hash,
    )
    warn_kept(arn, problems)
    return record


def make_snapshot(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The connector as the API returned it, timestamps as ISO-8601 UTC; one that cannot be
    read as a time is kept exactly as sent."""
    return with_iso_times(raw, _TIMESTAMP_PATHS)


def _normalize(
    summary: Mapping[str, Any],
    configuration: Mapping[str, Any] | None,
    account_id: str,
    region: str,
) -> ConnectorRecord:
    if configuration is None:
        raise UnstorableRecord(f"custom connector {summary.get('connectorLabel')!r}: no detail")
    return normalize_connector(summary, configuration, account_id, region)


CONNECTORS = Resource(
    name="connectors",
    singular="connector",
    title="custom connectors",
    api=Api(
        operation="ListConnectors",
        items="connectors",
        describe=Describe(
            operation="DescribeConnector",
            key=connector_key,
            request=lambda summary: {
                "connectorType": "CustomConnector",
                "connectorLabel": summary["connectorLabel"],
            },
            summary_hash=summary_hash,
            key_column="connector_label",
            hash_column="summary_hash",
            answer="connectorConfiguration",
        ),
    ),
    normalize=_normalize,
    table="custom_connectors",
    key="connector_arn",
    versions="custom_connector_versions",
    name_column="connector_label",
    show_columns=("connector_label", "connector_version", "provisioning_type", "lambda_arn"),
    change_columns=("connector_label", "connector_version"),
)

PROFILE_REGISTRATIONS = Link(
    owner=PROFILES,
    table="connector_profiles",
    name="connector_label",
    arn="custom_connector_arn",
    target=CONNECTORS,
)
"""A profile of a custom connector, linked to the live registration of its label."""
