"""Building realistic AppFlow flows that use the connector profiles of their scope.

A flow reads from one source and writes to one or more destinations; each end that is not S3
names a connector profile. Some flows name a profile that does not exist (deleted since, or
never created in that region), as real fleets have.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._catalog import PROPERTY_BLOCK_KEYS
from ._listing import DescribeOperation, ListOperation
from ._model import Kind, Organization, ScopeKey
from ._profiles import PROFILES, Profile

Flow = dict[str, Any]
"""One flow: its `DescribeFlow` answer plus the fields only its `ListFlows` definition has
(`sourceConnectorType`, ..., `triggerType`); see `flow_definition` and `flow_description`."""

# FlowDefinition's members (botocore's appflow model), in the model's order.
FLOW_DEFINITION_KEYS = (
    "flowArn",
    "description",
    "flowName",
    "flowStatus",
    "sourceConnectorType",
    "sourceConnectorLabel",
    "destinationConnectorType",
    "destinationConnectorLabel",
    "triggerType",
    "createdAt",
    "lastUpdatedAt",
    "createdBy",
    "lastUpdatedBy",
    "tags",
    "lastRunExecutionDetails",
)
# Members of FlowDefinition that DescribeFlowResponse does not have.
_DEFINITION_ONLY = frozenset(
    {
        "sourceConnectorType",
        "sourceConnectorLabel",
        "destinationConnectorType",
        "destinationConnectorLabel",
        "triggerType",
    }
)


def flow_definition(flow: Flow) -> Flow:
    """The flow as `ListFlows` lists it."""
    return {key: flow[key] for key in FLOW_DEFINITION_KEYS if key in flow}


def flow_description(flow: Flow) -> Flow:
    """The flow as `DescribeFlow` answers."""
    return {key: value for key, value in flow.items() if key not in _DEFINITION_ONLY}


FLOWS = Kind("flows", name_key="flowName", arn_key="flowArn", arn_type="flow")

# FlowName: [a-zA-Z0-9][\w!@#.-]+, at most 256 characters.
_FLOW_NAME = re.compile(r"[a-zA-Z0-9][\w!@#.-]+", re.ASCII)

FLOW_API = (
    ListOperation("ListFlows", FLOWS, b"flows", project=flow_definition),
    DescribeOperation("DescribeFlow", FLOWS, "flowName", _FLOW_NAME, flow_description),
)
"""`ListFlows` (`POST /list-flows`, `maxResults` 1..100, `nextToken`) answers `flows`, a page
of `FlowDefinition`s; `DescribeFlow` (`POST /describe-flow`, `flowName`) one flow."""

# Connector types a flow can read from, and write to (the API's Source/DestinationConnector
# Properties members, by connector type).
SOURCE_TYPES = frozenset(
    {
        "Salesforce", "Marketo", "Zendesk", "Servicenow", "Slack", "Datadog", "Dynatrace",
        "Googleanalytics", "Infornexus", "Amplitude", "Singular", "Trendmicro", "Veeva",
        "SAPOData", "CustomConnector", "Pardot",
    }
)  # fmt: skip
DESTINATION_TYPES = frozenset(
    {
        "Redshift", "Salesforce", "Snowflake", "EventBridge", "LookoutMetrics", "Upsolver",
        "Honeycode", "CustomerProfiles", "Zendesk", "Marketo", "SAPOData", "CustomConnector",
    }
)  # fmt: skip
FLOW_STATUSES = ("Active", "Suspended", "Draft", "Errored", "Deprecated")
_OBJECTS = ("Account", "Contact", "Opportunity", "Lead", "tickets", "incident", "Case", "users")
_TEAMS = ("data", "sales-ops", "finance")
_SCHEDULES = ("rate(1hours)", "rate(30minutes)", "rate(1days)")
_WORDS = ("sync", "daily", "crm", "events", "orders", "export", "import", "backfill", "leads")


@dataclass(frozen=True)
class End:
    """One end of a flow: its connector type, and the profile it names (None for S3)."""

    connector_type: str
    profile_name: str | None = None
    label: str | None = None


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=length))


def _block(connector_type: str) -> str:
    return PROPERTY_BLOCK_KEYS.get(connector_type) or connector_type


def _source_properties(end: End, account: str, rng: random.Random) -> dict[str, Any]:
    block = _block(end.connector_type)
    if end.connector_type == "S3":
        return {"S3": {"bucketName": f"appflow-in-{account}", "bucketPrefix": "landing/"}}
    if end.connector_type == "CustomConnector":
        return {block: {"entityName": rng.choice(_OBJECTS), "customProperties": {}}}
    return {block: {"object": rng.choice(_OBJECTS)}}


def _destination_properties(end: End, account: str, rng: random.Random) -> dict[str, Any]:
    block = _block(end.connector_type)
    if end.connector_type == "S3":
        return {
            "S3": {
                "bucketName": f"appflow-out-{account}",
                "bucketPrefix": rng.choice(("raw", "exports/appflow", "")),
                "s3OutputFormatConfig": {"fileType": rng.choice(("PARQUET", "JSON", "CSV"))},
            }
        }
    properties: dict[str, Any] = {"object": rng.choice(_OBJECTS)}
    if end.connector_type in ("Redshift", "Snowflake"):
        properties["intermediateBucketName"] = f"appflow-stage-{account}"
        properties["errorHandlingConfig"] = {"failOnFirstDestinationError": rng.random() < 0.5}
    return {block: properties}


def _trigger(rng: random.Random, created: float) -> dict[str, Any]:
    kind = rng.choices(("Scheduled", "OnDemand", "Event"), weights=(6, 3, 1))[0]
    if kind != "Scheduled":
        return {"triggerType": kind}
    return {
        "triggerType": "Scheduled",
        "triggerProperties": {
            "Scheduled": {
                "scheduleExpression": rng.choice(_SCHEDULES),
                "dataPullMode": rng.choice(("Incremental", "Complete")),
                "scheduleStartTime": round(created + 3600.0, 3),
                "timezone": "UTC",
                "scheduleOffset": 0,
            }
        },
    }


def last_run(rng: random.Random, at: float) -> dict[str, Any]:
    """`lastRunExecutionDetails` of a run at `at`."""
    status = rng.choices(("Successful", "Error", "InProgress"), weights=(8, 1, 1))[0]
    messages = {
        "Successful": f"Successfully ran the flow: {rng.randint(0, 5000)} records processed.",
        "Error": "Connector profile credentials are invalid or expired.",
        "InProgress": "",
    }
    return {
        "mostRecentExecutionStatus": status,
        "mostRecentExecutionTime": round(at, 3),
        "mostRecentExecutionMessage": messages[status],
    }


def make_flow(
    name: str,
    account: str,
    region: str,
    rng: random.Random,
    source: End,
    destinations: Sequence[End],
    *,
    created: float | None = None,
    status: str | None = None,
) -> Flow:
    """One flow as AppFlow holds it: its `DescribeFlow` answer and its definition's fields."""
    created = created if created is not None else round(rng.uniform(1.60e9, 1.75e9), 3)
    trigger = _trigger(rng, created)
    status = status or rng.choices(FLOW_STATUSES, weights=(70, 10, 10, 8, 2))[0]
    principal = f"arn:aws:sts::{account}:assumed-role/DataEngineer/{_token(rng, 6)}"
    source_config: dict[str, Any] = {
        "connectorType": source.connector_type,
        "sourceConnectorProperties": _source_properties(source, account, rng),
    }
    if source.profile_name is not None:
        source_config["connectorProfileName"] = source.profile_name
    if trigger["triggerType"] == "Scheduled" and rng.random() < 0.5:
        source_config["incrementalPullConfig"] = {"datetimeTypeFieldName": "LastModifiedDate"}
    destination_configs: list[dict[str, Any]] = []
    for end in destinations:
        config: dict[str, Any] = {
            "connectorType": end.connector_type,
            "destinationConnectorProperties": _destination_properties(end, account, rng),
        }
        if end.profile_name is not None:
            config["connectorProfileName"] = end.profile_name
        destination_configs.append(config)
    flow: Flow = {
        "flowArn": f"arn:aws:appflow:{region}:{account}:flow/{name}",
        "description": f"{source.connector_type} to {destinations[0].connector_type}",
        "flowName": name,
        "kmsArn": f"arn:aws:kms:{region}:{account}:key/{_token(rng, 8)}-{_token(rng, 4)}",
        "flowStatus": status,
        "sourceFlowConfig": source_config,
        "destinationFlowConfigList": destination_configs,
        "triggerConfig": trigger,
        "tasks": [
            {
                "sourceFields": [],
                "connectorOperator": {_block(source.connector_type): "NO_OP"},
                "taskType": "Map_all",
                "taskProperties": {},
            }
        ],
        "createdAt": created,
        "lastUpdatedAt": round(created + rng.uniform(0.0, 20_000_000.0), 3),
        "createdBy": principal,
        "lastUpdatedBy": principal,
        "tags": {"team": rng.choice(_TEAMS)} if rng.random() < 0.7 else {},
        "schemaVersion": 1,
        # What only the ListFlows definition says.
        "sourceConnectorType": source.connector_type,
        "destinationConnectorType": destinations[0].connector_type,
        "triggerType": trigger["triggerType"],
    }
    if source.label is not None:
        flow["sourceConnectorLabel"] = source.label
    if destinations[0].label is not None:
        flow["destinationConnectorLabel"] = destinations[0].label
    if status != "Draft":
        flow["lastRunExecutionDetails"] = last_run(rng, created + rng.uniform(4e6, 3e7))
    if rng.random() < 0.2:
        flow["metadataCatalogConfig"] = {
            "glueDataCatalog": {
                "roleArn": f"arn:aws:iam::{account}:role/AppFlowGlue",
                "databaseName": "appflow",
                "tablePrefix": name[:20],
            }
        }
        flow["lastRunMetadataCatalogDetails"] = [
            {
                "catalogType": "GLUE",
                "tableName": f"appflow.{name[:20]}",
                "tableRegistrationOutput": {"message": "", "result": "1", "status": "Successful"},
            }
        ]
    return flow


def _end(
    rng: random.Random,
    profiles: Sequence[Profile],
    types: frozenset[str],
    missing: float,
    other: End | None = None,
) -> End:
    """A flow end using one of `profiles` of the right kind (not the `other` end's), S3, or a
    profile that is gone."""
    taken = None if other is None else other.profile_name
    usable = [
        p
        for p in profiles
        if p.get("connectorType") in types and p.get("connectorProfileName") != taken
    ]
    roll = rng.random()
    if roll < missing:
        kind = rng.choice(sorted(types))
        return End(kind, f"{kind.lower()}-retired-{_token(rng, 5)}")
    if usable and roll < 0.8:
        profile = rng.choice(usable)
        return End(
            str(profile["connectorType"]),
            str(profile["connectorProfileName"]),
            profile.get("connectorLabel"),
        )
    return End("S3")


def flow_name(rng: random.Random, taken: set[str]) -> str:
    """A unique flow name of the scope (FlowName: [a-zA-Z0-9][\\w!@#.-]+)."""
    while True:
        name = f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}-{_token(rng, 4)}"
        if name not in taken:
            taken.add(name)
            return name


def random_flow(
    rng: random.Random,
    account: str,
    region: str,
    profiles: Sequence[Profile],
    taken: set[str],
    *,
    missing: float = 0.1,
    created: float | None = None,
) -> Flow:
    """A flow between profiles of the scope (or S3, or a profile that does not exist)."""
    source = _end(rng, profiles, SOURCE_TYPES, missing)
    destinations = [_end(rng, profiles, DESTINATION_TYPES, missing, source)]
    if rng.random() < 0.15:
        destinations.append(_end(rng, profiles, DESTINATION_TYPES, missing, source))
    return make_flow(
        flow_name(rng, taken), account, region, rng, source, destinations, created=created
    )


def add_flows(
    org: Organization, rng: random.Random, key: ScopeKey, per_profile: float, missing: float
) -> None:
    """Flows in one scope, about `per_profile` per profile it holds."""
    account, region = key
    profiles = org.items(PROFILES, account, region)
    count = int(len(profiles) * per_profile * rng.uniform(0.5, 1.5) + rng.random())
    taken: set[str] = set()
    for _ in range(count):
        flow = random_flow(rng, account, region, profiles, taken, missing=missing)
        org.put(FLOWS, account, region, flow)
