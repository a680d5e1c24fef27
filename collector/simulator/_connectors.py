"""Custom connectors registered in an account and region: `ListConnectors` and
`DescribeConnector`, and building realistic registrations.

A custom connector is a Lambda function registered with AppFlow under a label; profiles of
type `CustomConnector` name it by that label. `ListConnectors` (`POST /list-connectors`,
`maxResults` 1..100, `nextToken`) lists only the custom connectors registered in the account
and region, as `ConnectorDetail`s without their ARN; `DescribeConnector`
(`POST /describe-connector`, `connectorType` required, `connectorLabel`) answers
`connectorConfiguration`. The simulator describes registered custom connectors only: other
connector types, which AWS provides, are refused as a ValidationException.
"""

from __future__ import annotations

import random
import re
import string
from typing import Any

from ._listing import DescribeOperation, ListOperation, violation
from ._model import Kind, Organization, ScopeKey
from ._profiles import PROFILES

Connector = dict[str, Any]
"""One registration: its `ConnectorConfiguration` plus what only `ConnectorDetail` says."""

CONNECTORS = Kind(
    "connectors", name_key="connectorLabel", arn_key="connectorArn", arn_type="connector"
)

# ConnectorDetail's members (botocore's appflow model), in the model's order.
SUMMARY_KEYS = (
    "connectorDescription",
    "connectorName",
    "connectorOwner",
    "connectorVersion",
    "applicationType",
    "connectorType",
    "connectorLabel",
    "registeredAt",
    "registeredBy",
    "connectorProvisioningType",
    "connectorModes",
    "supportedDataTransferTypes",
)
# Members of ConnectorDetail that ConnectorConfiguration does not have.
_SUMMARY_ONLY = frozenset({"applicationType"})
# ConnectorLabel: [a-zA-Z0-9][\w!@#.-]+, at most 256 characters.
_LABEL = re.compile(r"[a-zA-Z0-9][\w!@#.-]+", re.ASCII)
_OWNERS = ("Acme Integrations", "Data Platform", "SampleConnector Inc.")
_OPERATORS = ("PROJECTION", "EQUAL_TO", "GREATER_THAN", "LESS_THAN", "BETWEEN", "CONTAINS")


def connector_summary(connector: Connector) -> Connector:
    """The connector as `ListConnectors` lists it."""
    return {key: connector[key] for key in SUMMARY_KEYS if key in connector}


def connector_description(connector: Connector) -> Connector:
    """The connector as `DescribeConnector` answers."""
    configuration = {k: v for k, v in connector.items() if k not in _SUMMARY_ONLY}
    return {"connectorConfiguration": configuration}


def _check_type(params: dict[str, Any], problems: list[str]) -> None:
    connector_type = params.get("connectorType")
    if connector_type is None:
        problems.append(violation("connectorType", "null", "not be null"))
    elif connector_type != "CustomConnector":
        problems.append(
            violation("connectorType", connector_type, "be CustomConnector in this simulator")
        )


CONNECTOR_API = (
    ListOperation("ListConnectors", CONNECTORS, b"connectors", project=connector_summary),
    DescribeOperation(
        "DescribeConnector",
        CONNECTORS,
        "connectorLabel",
        _LABEL,
        connector_description,
        check=_check_type,
    ),
)


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=length))


def make_connector(
    label: str,
    account: str,
    region: str,
    rng: random.Random,
    *,
    version: str | None = None,
) -> Connector:
    """A custom connector registered as `label`: a Lambda function in the scope."""
    function = re.sub(r"[^A-Za-z0-9_-]", "-", label)[:50]
    modes = rng.choice((["SOURCE"], ["SOURCE", "DESTINATION"], ["DESTINATION"]))
    return {
        "canUseAsSource": "SOURCE" in modes,
        "canUseAsDestination": "DESTINATION" in modes,
        "supportedDestinationConnectors": ["S3"] if "SOURCE" in modes else [],
        "supportedSchedulingFrequencies": ["ONCE", "HOURLY", "DAILY"],
        "isPrivateLinkEnabled": False,
        "isPrivateLinkEndpointUrlRequired": False,
        "supportedTriggerTypes": ["OnDemand", "Scheduled"],
        "connectorMetadata": {},
        "connectorType": "CustomConnector",
        "connectorLabel": label,
        "connectorDescription": f"{label} for AppFlow",
        "connectorOwner": rng.choice(_OWNERS),
        "connectorName": function,
        "connectorVersion": version or f"{rng.randint(1, 3)}.{rng.randint(0, 9)}",
        "connectorArn": CONNECTORS.arn(account, region, label),
        "connectorModes": modes,
        "authenticationConfig": {
            "isBasicAuthSupported": rng.random() < 0.3,
            "isApiKeyAuthSupported": rng.random() < 0.5,
            "isOAuth2Supported": rng.random() < 0.5,
            "isCustomAuthSupported": False,
        },
        "connectorRuntimeSettings": [
            {
                "key": "instanceUrl",
                "dataType": "String",
                "isRequired": True,
                "label": "Instance URL",
                "description": "Where the service this connector reaches runs",
                "scope": "CONNECTOR_PROFILE",
            }
        ],
        "supportedApiVersions": ["v1"],
        "supportedOperators": list(_OPERATORS),
        "supportedWriteOperations": ["INSERT", "UPSERT"],
        "connectorProvisioningType": "LAMBDA",
        "connectorProvisioningConfig": {
            "lambda": {"lambdaArn": f"arn:aws:lambda:{region}:{account}:function:{function}"}
        },
        "registeredAt": round(rng.uniform(1.6e9, 1.75e9), 3),
        "registeredBy": f"arn:aws:sts::{account}:assumed-role/Platform/{_token(rng, 6)}",
        "supportedDataTransferTypes": ["RECORD"],
        "applicationType": rng.choice(("CRM", "Ticketing", "Analytics")),
    }


def add_connectors(
    org: Organization, rng: random.Random, key: ScopeKey, registered: float = 0.85
) -> None:
    """Register, in one scope, most custom connectors its profiles name (a profile may
    outlive its registration), and now and then one that no profile uses."""
    account, region = key
    labels = {
        str(p["connectorLabel"])
        for p in org.items(PROFILES, account, region)
        if isinstance(p.get("connectorLabel"), str)
    }
    for label in sorted(labels):
        if rng.random() < registered:
            org.put(CONNECTORS, account, region, make_connector(label, account, region, rng))
    if labels and rng.random() < 0.2:
        label = f"unused-{_token(rng, 5)}"
        org.put(CONNECTORS, account, region, make_connector(label, account, region, rng))
