"""Normalization of `DescribeConnectorProfiles` items into rows, for every connector type.

The fixtures follow the AppFlow API reference (`connectorProfileProperties`: one block per
connector, 19 blocks for 24 connector types; S3, EventBridge, LookoutMetrics, Upsolver and
CustomerProfiles have no block and arrive with an empty `connectorProfileProperties`). They
are what the wire carries: decoded JSON with epoch-second timestamps.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from collector._model.resources.profiles import PROFILES, flatten_properties, normalize_profile
from collector._model.wire import UnstorableRecord, digest

changed_paths = PROFILES.changed_fields

ACCOUNT = "012345678901"
REGION = "eu-west-1"
CREATED_EPOCH = 1700000000.5
CREATED_AT = datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)
UPDATED_EPOCH = 1717243200.0
UPDATED_AT = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
ROLE = "arn:aws:iam::012345678901:role"
SECRET = "arn:aws:secretsmanager:eu-west-1:012345678901:secret"


@dataclass(frozen=True)
class Case:
    """One connector type: its property block and the leaves it flattens to."""

    connector_type: str
    properties: dict[str, Any]
    leaves: dict[str, Any] = field(default_factory=dict)
    label: str | None = None
    mode: str = "Public"

    @property
    def block(self) -> str | None:
        return next(iter(self.properties), None)


CASES = [
    Case(
        "Salesforce",
        {
            "Salesforce": {
                "instanceUrl": "https://acme.my.salesforce.com",
                "isSandboxEnvironment": False,
                "usePrivateLinkForMetadataAndAuthorization": True,
            }
        },
        {
            "instanceUrl": "https://acme.my.salesforce.com",
            "isSandboxEnvironment": False,
            "usePrivateLinkForMetadataAndAuthorization": True,
        },
        mode="Private",
    ),
    Case("Singular", {"Singular": {}}),
    Case(
        "Slack",
        {"Slack": {"instanceUrl": "https://acme.slack.com"}},
        {"instanceUrl": "https://acme.slack.com"},
    ),
    Case(
        "Redshift",
        {
            "Redshift": {
                "databaseUrl": "jdbc:redshift://wh.abc123.eu-west-1.redshift.amazonaws.com:5439/dev",
                "bucketName": "acme-appflow-staging",
                "bucketPrefix": "redshift/",
                "roleArn": f"{ROLE}/RedshiftS3Read",
                "dataApiRoleArn": f"{ROLE}/AppFlowRedshiftDataApi",
                "isRedshiftServerless": False,
                "clusterIdentifier": "wh",
                "workgroupName": "analytics",
                "databaseName": "dev",
            }
        },
        {
            "databaseUrl": "jdbc:redshift://wh.abc123.eu-west-1.redshift.amazonaws.com:5439/dev",
            "bucketName": "acme-appflow-staging",
            "bucketPrefix": "redshift/",
            "roleArn": f"{ROLE}/RedshiftS3Read",
            "dataApiRoleArn": f"{ROLE}/AppFlowRedshiftDataApi",
            "isRedshiftServerless": False,
            "clusterIdentifier": "wh",
            "workgroupName": "analytics",
            "databaseName": "dev",
        },
    ),
    Case("S3", {}),
    Case(
        "Marketo",
        {"Marketo": {"instanceUrl": "https://123-ABC-456.mktorest.com"}},
        {"instanceUrl": "https://123-ABC-456.mktorest.com"},
    ),
    Case("Googleanalytics", {"GoogleAnalytics": {}}),
    Case(
        "Zendesk",
        {"Zendesk": {"instanceUrl": "https://acme.zendesk.com"}},
        {"instanceUrl": "https://acme.zendesk.com"},
    ),
    Case(
        "Servicenow",
        {"ServiceNow": {"instanceUrl": "https://acme.service-now.com"}},
        {"instanceUrl": "https://acme.service-now.com"},
    ),
    Case(
        "Datadog",
        {"Datadog": {"instanceUrl": "https://api.datadoghq.eu"}},
        {"instanceUrl": "https://api.datadoghq.eu"},
    ),
    Case("Trendmicro", {"Trendmicro": {}}),
    Case(
        "Snowflake",
        {
            "Snowflake": {
                "warehouse": "COMPUTE_WH",
                "stage": "ANALYTICS.PUBLIC.APPFLOW_STAGE",
                "bucketName": "acme-snowflake-stage",
                "bucketPrefix": "appflow",
                "privateLinkServiceName": "com.amazonaws.vpce.eu-west-1.vpce-svc-0a1b2c3d4e5f6a7b8",
                "accountName": "acme-xy12345",
                "region": "eu-west-1",
            }
        },
        {
            "warehouse": "COMPUTE_WH",
            "stage": "ANALYTICS.PUBLIC.APPFLOW_STAGE",
            "bucketName": "acme-snowflake-stage",
            "bucketPrefix": "appflow",
            "privateLinkServiceName": "com.amazonaws.vpce.eu-west-1.vpce-svc-0a1b2c3d4e5f6a7b8",
            "accountName": "acme-xy12345",
            "region": "eu-west-1",
        },
        mode="Private",
    ),
    Case(
        "Dynatrace",
        {"Dynatrace": {"instanceUrl": "https://abc12345.live.dynatrace.com"}},
        {"instanceUrl": "https://abc12345.live.dynatrace.com"},
    ),
    Case(
        "Infornexus",
        {"InforNexus": {"instanceUrl": "https://network.infornexus.com"}},
        {"instanceUrl": "https://network.infornexus.com"},
    ),
    Case("Amplitude", {"Amplitude": {}}),
    Case(
        "Veeva",
        {"Veeva": {"instanceUrl": "https://acme.veevavault.com"}},
        {"instanceUrl": "https://acme.veevavault.com"},
    ),
    Case("EventBridge", {}),
    Case("LookoutMetrics", {}),
    Case("Upsolver", {}),
    Case("Honeycode", {"Honeycode": {}}),
    Case("CustomerProfiles", {}),
    Case(
        "SAPOData",
        {
            "SAPOData": {
                "applicationHostUrl": "https://sap.acme.example",
                "applicationServicePath": "/sap/opu/odata/iwfnd/catalogservice;v=2",
                "portNumber": 443,
                "clientNumber": "100",
                "logonLanguage": "EN",
                "privateLinkServiceName": "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0",
                "oAuthProperties": {
                    "tokenUrl": "https://sap.acme.example/sap/bc/sec/oauth2/token",
                    "authCodeUrl": "https://sap.acme.example/sap/bc/sec/oauth2/authorize",
                    "oAuthScopes": ["ZAPI_SALES_ORDER_SRV_0001", "ZAPI_BUSINESS_PARTNER_0001"],
                },
                "disableSSO": True,
            }
        },
        {
            "applicationHostUrl": "https://sap.acme.example",
            "applicationServicePath": "/sap/opu/odata/iwfnd/catalogservice;v=2",
            "portNumber": 443,
            "clientNumber": "100",
            "logonLanguage": "EN",
            "privateLinkServiceName": "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0",
            "oAuthProperties.tokenUrl": "https://sap.acme.example/sap/bc/sec/oauth2/token",
            "oAuthProperties.authCodeUrl": "https://sap.acme.example/sap/bc/sec/oauth2/authorize",
            "oAuthProperties.oAuthScopes": [
                "ZAPI_SALES_ORDER_SRV_0001",
                "ZAPI_BUSINESS_PARTNER_0001",
            ],
            "disableSSO": True,
        },
        mode="Private",
    ),
    Case(
        "CustomConnector",
        {
            "CustomConnector": {
                "profileProperties": {"api.version": "v2", "tenant": "acme", "region": "eu"},
                "oAuth2Properties": {
                    "tokenUrl": "https://auth.example.com/oauth2/token",
                    "oAuth2GrantType": "CLIENT_CREDENTIALS",
                    "tokenUrlCustomProperties": {
                        "audience": "https://api.example.com",
                        "resource": "inventory",
                    },
                },
            }
        },
        {
            "profileProperties": {"api.version": "v2", "tenant": "acme", "region": "eu"},
            "oAuth2Properties.tokenUrl": "https://auth.example.com/oauth2/token",
            "oAuth2Properties.oAuth2GrantType": "CLIENT_CREDENTIALS",
            "oAuth2Properties.tokenUrlCustomProperties": {
                "audience": "https://api.example.com",
                "resource": "inventory",
            },
        },
        label="AcmeInventoryConnector",
    ),
    Case(
        "Pardot",
        {
            "Pardot": {
                "instanceUrl": "https://pi.pardot.com",
                "isSandboxEnvironment": True,
                "businessUnitId": "0Uv5g000000CaSjCAK",
            }
        },
        {
            "instanceUrl": "https://pi.pardot.com",
            "isSandboxEnvironment": True,
            "businessUnitId": "0Uv5g000000CaSjCAK",
        },
    ),
]

FAILURE_MESSAGE = "The endpoint service rejected the connection request"


def arn_of(name: str) -> str:
    return f"arn:aws:appflow:{REGION}:{ACCOUNT}:connectorprofile/{name}"


def raw_profile(case: Case) -> dict[str, Any]:
    """A profile as the wire carries it: every top-level field the reference lists."""
    name = f"{case.connector_type.lower()}-prod/main+1"
    raw: dict[str, Any] = {
        "connectorProfileArn": arn_of(name),
        "connectorProfileName": name,
        "connectorType": case.connector_type,
        "connectionMode": case.mode,
        "credentialsArn": f"{SECRET}:appflow!{case.connector_type}-AbCdEf",
        "connectorProfileProperties": copy.deepcopy(case.properties),
        "createdAt": CREATED_EPOCH,
        "lastUpdatedAt": UPDATED_EPOCH,
    }
    if case.label is not None:
        raw["connectorLabel"] = case.label
    if case.mode == "Private":
        raw["privateConnectionProvisioningState"] = {
            "status": "FAILED",
            "failureMessage": FAILURE_MESSAGE,
            "failureCause": "CONNECTOR_AUTHENTICATION",
        }
    return raw


def by_type(connector_type: str) -> Case:
    return next(case for case in CASES if case.connector_type == connector_type)


CUSTOM = by_type("CustomConnector")


def parse_z(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text[:-1] + "+00:00")


# The `connectorType` enum and the `connectorProfileProperties` members of the reference.
REFERENCE_TYPES = [
    "Salesforce",
    "Singular",
    "Slack",
    "Redshift",
    "S3",
    "Marketo",
    "Googleanalytics",
    "Zendesk",
    "Servicenow",
    "Datadog",
    "Trendmicro",
    "Snowflake",
    "Dynatrace",
    "Infornexus",
    "Amplitude",
    "Veeva",
    "EventBridge",
    "LookoutMetrics",
    "Upsolver",
    "Honeycode",
    "CustomerProfiles",
    "SAPOData",
    "CustomConnector",
    "Pardot",
]
REFERENCE_BLOCKS = [
    "Amplitude",
    "Datadog",
    "Dynatrace",
    "GoogleAnalytics",
    "Honeycode",
    "InforNexus",
    "Marketo",
    "Redshift",
    "Salesforce",
    "ServiceNow",
    "Singular",
    "Slack",
    "Snowflake",
    "Trendmicro",
    "Veeva",
    "Zendesk",
    "SAPOData",
    "CustomConnector",
    "Pardot",
]


def test_fixtures_cover_every_connector_type_of_the_reference() -> None:
    """The fixtures hold each of the 24 connector types once and each of the 19 blocks once."""
    types = [case.connector_type for case in CASES]
    blocks = [case.block for case in CASES if case.block is not None]
    assert sorted(types) == sorted(REFERENCE_TYPES)
    assert len(types) == len(set(types)) == 24
    assert sorted(blocks) == sorted(REFERENCE_BLOCKS)
    assert len(blocks) == len(set(blocks)) == 19


@pytest.mark.parametrize("case", CASES, ids=[case.connector_type for case in CASES])
def test_columns_of_every_connector_type(case: Case) -> None:
    """Every connector type yields its top-level fields as columns, timestamps in UTC."""
    raw = raw_profile(case)
    record = normalize_profile(raw, ACCOUNT, REGION)
    assert record.arn == raw["connectorProfileArn"]
    assert record.account_id == ACCOUNT
    assert record.region == REGION
    assert record.name == raw["connectorProfileName"]
    assert record.connector_type == case.connector_type
    assert record.connector_label == case.label
    assert record.connection_mode == case.mode
    assert record.credentials_arn == raw["credentialsArn"]
    assert record.created_at == CREATED_AT
    assert record.last_updated_at == UPDATED_AT
    assert record.created_at is not None
    assert record.last_updated_at is not None
    assert record.created_at.utcoffset() == timedelta(0)
    assert record.last_updated_at.utcoffset() == timedelta(0)
    if case.mode == "Private":
        assert record.private_connection_status == "FAILED"
        assert record.private_connection_failure_cause == "CONNECTOR_AUTHENTICATION"
        assert record.private_connection_failure_message == FAILURE_MESSAGE
    else:
        assert record.private_connection_status is None
        assert record.private_connection_failure_cause is None
        assert record.private_connection_failure_message is None


@pytest.mark.parametrize("case", CASES, ids=[case.connector_type for case in CASES])
def test_properties_are_kept_exactly_as_given(case: Case) -> None:
    """The `connectorProfileProperties` object is stored exactly as the API returned it."""
    record = normalize_profile(raw_profile(case), ACCOUNT, REGION)
    assert record.properties == case.properties
    assert json.dumps(record.properties, sort_keys=True) == json.dumps(
        case.properties, sort_keys=True
    )


@pytest.mark.parametrize("case", CASES, ids=[case.connector_type for case in CASES])
def test_snapshot_is_the_profile_with_iso_utc_timestamps(case: Case) -> None:
    """The snapshot keeps every field as given and writes timestamps as ISO-8601 UTC with Z."""
    raw = raw_profile(case)
    record = normalize_profile(raw, ACCOUNT, REGION)
    snapshot = record.snapshot
    assert isinstance(snapshot["createdAt"], str)
    assert isinstance(snapshot["lastUpdatedAt"], str)
    assert parse_z(snapshot["createdAt"]) == CREATED_AT
    assert parse_z(snapshot["lastUpdatedAt"]) == UPDATED_AT
    assert snapshot["lastUpdatedAt"] == "2024-06-01T12:00:00Z"
    rest = {k: v for k, v in snapshot.items() if k not in ("createdAt", "lastUpdatedAt")}
    assert rest == {k: v for k, v in raw.items() if k not in ("createdAt", "lastUpdatedAt")}
    json.dumps(snapshot)  # the snapshot must be storable as JSON as it is


@pytest.mark.parametrize("case", CASES, ids=[case.connector_type for case in CASES])
def test_flatten_properties_of_every_connector_type(case: Case) -> None:
    """Each leaf of the block becomes one `(connector, dotted path, text)` row."""
    rows = list(
        flatten_properties(normalize_profile(raw_profile(case), ACCOUNT, REGION).properties)
    )
    assert {connector for connector, _, _ in rows} <= {case.block}
    paths = [path for _, path, _ in rows]
    assert len(paths) == len(set(paths))
    assert set(paths) == set(case.leaves)
    for _, path, value in rows:
        assert isinstance(value, str)
        expected = case.leaves[path]
        if isinstance(expected, str):
            assert value == expected
        else:
            assert json.loads(value) == expected


def test_flatten_writes_booleans_as_json_and_ints_as_text() -> None:
    """Booleans become `true`/`false` and integers their decimal text."""
    rows = {
        (connector, path): value
        for case in (by_type("Salesforce"), by_type("SAPOData"), by_type("Pardot"))
        for connector, path, value in flatten_properties(case.properties)
    }
    assert rows["Salesforce", "isSandboxEnvironment"] == "false"
    assert rows["Salesforce", "usePrivateLinkForMetadataAndAuthorization"] == "true"
    assert rows["Pardot", "isSandboxEnvironment"] == "true"
    assert rows["SAPOData", "disableSSO"] == "true"
    assert rows["SAPOData", "portNumber"] == "443"
    assert rows["SAPOData", "clientNumber"] == "100"


def test_flatten_keeps_lists_and_the_two_maps_as_single_json_leaves() -> None:
    """Lists, `profileProperties` and `tokenUrlCustomProperties` are one JSON-text row each."""
    rows = list(flatten_properties({**by_type("SAPOData").properties, **CUSTOM.properties}))
    paths = {path for _, path, _ in rows}
    assert "oAuthProperties.oAuthScopes" in paths
    assert not any(p.startswith("oAuthProperties.oAuthScopes.") for p in paths)
    assert "profileProperties" in paths
    assert not any(p.startswith("profileProperties.") for p in paths)
    assert "oAuth2Properties.tokenUrlCustomProperties" in paths
    assert not any(p.startswith("oAuth2Properties.tokenUrlCustomProperties.") for p in paths)
    values = {path: value for _, path, value in rows}
    assert json.loads(values["profileProperties"]) == {
        "api.version": "v2",
        "tenant": "acme",
        "region": "eu",
    }
    assert json.loads(values["oAuthProperties.oAuthScopes"]) == [
        "ZAPI_SALES_ORDER_SRV_0001",
        "ZAPI_BUSINESS_PARTNER_0001",
    ]


def test_flatten_keeps_an_empty_map_as_an_empty_json_object() -> None:
    """An empty `profileProperties` map is still a leaf, `{}`, not dropped."""
    rows = list(flatten_properties({"CustomConnector": {"profileProperties": {}}}))
    assert [(c, p, json.loads(v)) for c, p, v in rows] == [
        ("CustomConnector", "profileProperties", {})
    ]


def test_flatten_of_no_properties_is_empty() -> None:
    """A profile without a property block has no property rows."""
    assert list(flatten_properties({})) == []
    assert list(flatten_properties({"Amplitude": {}})) == []


def reorder(value: Any) -> Any:
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {k: reorder(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reorder(v) for v in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=[case.connector_type for case in CASES])
def test_content_hash_is_stable_under_key_reordering(case: Case) -> None:
    """Two copies of a profile that differ only in key order hash the same."""
    raw = raw_profile(case)
    again = reorder(raw)
    assert list(again) != list(raw)
    first = normalize_profile(raw, ACCOUNT, REGION)
    second = normalize_profile(again, ACCOUNT, REGION)
    assert first.content_hash == second.content_hash
    assert first.content_hash == digest(second.snapshot)


def test_content_hash_does_not_depend_on_how_the_epoch_is_written() -> None:
    """An integer and a float epoch for the same instant hash the same."""
    raw = raw_profile(by_type("Slack"))
    raw["lastUpdatedAt"] = 1717243200
    assert (
        normalize_profile(raw, ACCOUNT, REGION).content_hash
        == normalize_profile(raw_profile(by_type("Slack")), ACCOUNT, REGION).content_hash
    )


def leaf_paths(value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every path to a non-object value (and to every empty object) in a JSON object."""
    for key, child in value.items():
        if isinstance(child, dict) and child:
            yield from leaf_paths(child, (*prefix, key))
        else:
            yield (*prefix, key)


def mutated(raw: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """A copy of `raw` with the value at `path` changed to a different one of the same type."""
    result = copy.deepcopy(raw)
    node = result
    for key in path[:-1]:
        node = node[key]
    old = node[path[-1]]
    if isinstance(old, bool):
        node[path[-1]] = not old
    elif isinstance(old, int | float):
        node[path[-1]] = old + 1
    elif isinstance(old, str):
        node[path[-1]] = old + "x"
    elif isinstance(old, list):
        node[path[-1]] = [*old, "extra"]
    else:
        node[path[-1]] = {"added": "x"}
    return result


RICH = [by_type("SAPOData"), by_type("CustomConnector"), by_type("Redshift")]


@pytest.mark.parametrize("case", RICH, ids=[case.connector_type for case in RICH])
def test_content_hash_changes_when_any_field_changes(case: Case) -> None:
    """Changing any single value anywhere in the profile changes the hash."""
    raw = raw_profile(case)
    raw.setdefault("connectorLabel", "label")
    raw.setdefault(
        "privateConnectionProvisioningState",
        {"status": "CREATED", "failureMessage": "", "failureCause": "VALIDATION"},
    )
    base = normalize_profile(raw, ACCOUNT, REGION).content_hash
    paths = list(leaf_paths(raw))
    assert len(paths) > 15
    for path in paths:
        changed = normalize_profile(mutated(raw, path), ACCOUNT, REGION).content_hash
        assert changed != base, path


def test_content_hash_changes_when_a_field_is_added_or_removed() -> None:
    """Adding or removing a field, even an empty block, changes the hash."""
    raw = raw_profile(by_type("Salesforce"))
    base = normalize_profile(raw, ACCOUNT, REGION).content_hash
    without = copy.deepcopy(raw)
    del without["connectorProfileProperties"]["Salesforce"]["isSandboxEnvironment"]
    with_block = copy.deepcopy(raw)
    with_block["connectorProfileProperties"]["Amplitude"] = {}
    hashes = {
        normalize_profile(without, ACCOUNT, REGION).content_hash,
        normalize_profile(with_block, ACCOUNT, REGION).content_hash,
    }
    assert base not in hashes
    assert len(hashes) == 2


def test_absent_optional_fields_give_none() -> None:
    """A profile with only its ARN has None in every other column and no properties."""
    arn = arn_of("bare")
    record = normalize_profile({"connectorProfileArn": arn}, ACCOUNT, REGION)
    assert record.arn == arn
    assert record.name is None
    assert record.connector_type is None
    assert record.connector_label is None
    assert record.connection_mode is None
    assert record.credentials_arn is None
    assert record.created_at is None
    assert record.last_updated_at is None
    assert record.private_connection_status is None
    assert record.private_connection_failure_cause is None
    assert record.private_connection_failure_message is None
    assert record.properties == {}
    assert list(flatten_properties(record.properties)) == []
    assert record.snapshot == {"connectorProfileArn": arn}


def test_explicit_nulls_give_none() -> None:
    """Fields present with a null value read like absent ones."""
    raw = {
        "connectorProfileArn": arn_of("nulls"),
        "connectorProfileName": "nulls",
        "credentialsArn": None,
        "connectorProfileProperties": None,
        "createdAt": None,
        "privateConnectionProvisioningState": {"status": "PENDING", "failureMessage": None},
    }
    record = normalize_profile(raw, ACCOUNT, REGION)
    assert record.credentials_arn is None
    assert record.properties == {}
    assert record.created_at is None
    assert record.private_connection_status == "PENDING"
    assert record.private_connection_failure_message is None
    assert record.private_connection_failure_cause is None


def test_unknown_connector_type_and_block_are_kept() -> None:
    """A connector type and property block newer than the reference are stored, not rejected."""
    properties = {
        "Zoho": {
            "instanceUrl": "https://www.zohoapis.eu",
            "auth": {"mode": "oauth", "scopes": ["ZohoCRM.modules.ALL"]},
            "dataCenter": 3,
            "isSandbox": False,
        }
    }
    raw = {
        "connectorProfileArn": arn_of("zoho"),
        "connectorProfileName": "zoho",
        "connectorType": "Zoho",
        "connectionMode": "Hybrid",
        "connectorProfileProperties": copy.deepcopy(properties),
        "createdAt": CREATED_EPOCH,
    }
    record = normalize_profile(raw, ACCOUNT, REGION)
    assert record.connector_type == "Zoho"
    assert record.connection_mode == "Hybrid"
    assert record.properties == properties
    assert record.snapshot["connectorProfileProperties"] == properties
    rows = sorted(flatten_properties(record.properties))
    assert rows == [
        ("Zoho", "auth.mode", "oauth"),
        ("Zoho", "auth.scopes", json.dumps(["ZohoCRM.modules.ALL"])),
        ("Zoho", "dataCenter", "3"),
        ("Zoho", "instanceUrl", "https://www.zohoapis.eu"),
        ("Zoho", "isSandbox", "false"),
    ]


def test_unknown_top_level_field_is_kept_in_the_snapshot() -> None:
    """A top-level member the reference does not list survives into the snapshot and hash."""
    raw = raw_profile(by_type("Slack"))
    plain = normalize_profile(raw, ACCOUNT, REGION)
    record = normalize_profile({**raw, "tags": {"team": "data"}}, ACCOUNT, REGION)
    assert record.snapshot["tags"] == {"team": "data"}
    assert record.content_hash != plain.content_hash


@pytest.mark.parametrize("arn", [None, "", 123])
def test_missing_or_invalid_arn_raises(arn: Any) -> None:
    """A profile without a usable ARN cannot be stored and raises UnstorableRecord."""
    raw = raw_profile(by_type("Slack"))
    if arn is None:
        del raw["connectorProfileArn"]
    else:
        raw["connectorProfileArn"] = arn
    with pytest.raises(UnstorableRecord):
        normalize_profile(raw, ACCOUNT, REGION)


@pytest.mark.parametrize("name", [42, ["slack"], {"n": "slack"}, True])
def test_non_string_name_is_kept_as_sent_with_an_empty_column(
    name: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A profile name that is not a string leaves the column NULL, stays in the snapshot as
    sent, and is logged once naming the field."""
    raw = raw_profile(by_type("Slack"))
    raw["connectorProfileName"] = name
    record = normalize_profile(raw, ACCOUNT, REGION)
    assert record.name is None
    assert record.snapshot["connectorProfileName"] == name
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "connectorProfileName" in warnings[0]


def test_non_object_properties_are_kept_in_the_snapshot_only() -> None:
    """A `connectorProfileProperties` that is not an object stays in the snapshot as sent, and
    the properties column is an empty object."""
    raw = raw_profile(by_type("Slack"))
    raw["connectorProfileProperties"] = ["Slack"]
    record = normalize_profile(raw, ACCOUNT, REGION)
    assert record.properties == {}
    assert record.snapshot["connectorProfileProperties"] == ["Slack"]


@pytest.mark.parametrize(
    "stamp", ["yesterday", 1e20, 1_700_000_000_123, -1e18, [1], {"t": 1}, True, 10**30]
)
def test_unreadable_or_out_of_range_timestamp_is_null_and_kept_as_sent(
    stamp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A timestamp that is not a representable time (text, milliseconds, 1e20, a list) leaves
    `created_at` NULL, is kept exactly as sent in the snapshot, and is logged once."""
    raw = raw_profile(by_type("Slack"))
    raw["createdAt"] = stamp
    record = normalize_profile(raw, ACCOUNT, REGION)
    assert record.created_at is None
    assert record.last_updated_at is not None
    assert record.snapshot["createdAt"] == stamp
    assert type(record.snapshot["createdAt"]) is type(stamp)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "createdAt" in warnings[0]


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"])
def test_timestamps_are_utc_whatever_the_local_time_zone(zone: str) -> None:
    """Epoch timestamps become the same UTC instant and text whatever `TZ` says."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        assert time.localtime(CREATED_EPOCH).tm_gmtoff != 0
        record = normalize_profile(raw_profile(by_type("Slack")), ACCOUNT, REGION)
        snapshot = record.snapshot
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()
    assert record.created_at == CREATED_AT
    assert record.created_at is not None
    assert record.created_at.utcoffset() == timedelta(0)
    assert (record.created_at.hour, record.created_at.minute) == (22, 13)
    assert snapshot["lastUpdatedAt"] == "2024-06-01T12:00:00Z"
    assert parse_z(snapshot["createdAt"]) == CREATED_AT


def snapshot_of(raw: dict[str, Any]) -> dict[str, Any]:
    return normalize_profile(raw, ACCOUNT, REGION).snapshot


def test_changed_paths_of_identical_snapshots_is_empty() -> None:
    """Two snapshots of an unchanged profile have no changed path."""
    raw = raw_profile(by_type("SAPOData"))
    assert changed_paths(snapshot_of(raw), snapshot_of(reorder(raw))) == []


def test_changed_paths_names_a_changed_property_leaf() -> None:
    """A changed property is reported by its full dotted path."""
    raw = raw_profile(by_type("Salesforce"))
    new = copy.deepcopy(raw)
    new["connectorProfileProperties"]["Salesforce"]["instanceUrl"] = "https://acme2.my.sf.com"
    assert changed_paths(snapshot_of(raw), snapshot_of(new)) == [
        "connectorProfileProperties.Salesforce.instanceUrl"
    ]


def test_changed_paths_are_sorted_and_include_top_level_fields() -> None:
    """Several changes are all reported, sorted, top-level and nested alike."""
    raw = raw_profile(by_type("Salesforce"))
    new = copy.deepcopy(raw)
    new["lastUpdatedAt"] = UPDATED_EPOCH + 60
    new["credentialsArn"] = f"{SECRET}:appflow!rotated"
    new["privateConnectionProvisioningState"]["status"] = "CREATED"
    new["connectorProfileProperties"]["Salesforce"]["isSandboxEnvironment"] = True
    assert changed_paths(snapshot_of(raw), snapshot_of(new)) == [
        "connectorProfileProperties.Salesforce.isSandboxEnvironment",
        "credentialsArn",
        "lastUpdatedAt",
        "privateConnectionProvisioningState.status",
    ]


def test_changed_paths_reports_a_list_once_and_added_or_removed_fields() -> None:
    """A changed list is one path; added and removed fields are reported too."""
    raw = raw_profile(by_type("SAPOData"))
    new = copy.deepcopy(raw)
    block = new["connectorProfileProperties"]["SAPOData"]
    block["oAuthProperties"]["oAuthScopes"].append("ZAPI_NEW_0001")
    del block["logonLanguage"]
    new["connectorLabel"] = "sap"
    assert changed_paths(snapshot_of(raw), snapshot_of(new)) == [
        "connectorLabel",
        "connectorProfileProperties.SAPOData.logonLanguage",
        "connectorProfileProperties.SAPOData.oAuthProperties.oAuthScopes",
    ]


def test_changed_paths_reports_a_map_change_under_the_map() -> None:
    """A change inside `profileProperties` is reported under that map's path, and only there."""
    raw = raw_profile(CUSTOM)
    new = copy.deepcopy(raw)
    new["connectorProfileProperties"]["CustomConnector"]["profileProperties"]["tenant"] = "acme2"
    paths = changed_paths(snapshot_of(raw), snapshot_of(new))
    assert len(paths) == 1
    assert paths[0].startswith("connectorProfileProperties.CustomConnector.profileProperties")
