"""Static facts about AWS that the simulator reproduces: connector types and regions."""

from __future__ import annotations

from typing import Final

#: The 24 connector types of the AppFlow API reference, in the model's enum order.
CONNECTOR_TYPES: Final[tuple[str, ...]] = (
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
)

#: Connector type -> key of its block in `connectorProfileProperties` (None: no block).
#: The spelling differs from the type for some connectors; this follows the reference.
PROPERTY_BLOCK_KEYS: Final[dict[str, str | None]] = {
    "Salesforce": "Salesforce",
    "Singular": "Singular",
    "Slack": "Slack",
    "Redshift": "Redshift",
    "S3": None,
    "Marketo": "Marketo",
    "Googleanalytics": "GoogleAnalytics",
    "Zendesk": "Zendesk",
    "Servicenow": "ServiceNow",
    "Datadog": "Datadog",
    "Trendmicro": "Trendmicro",
    "Snowflake": "Snowflake",
    "Dynatrace": "Dynatrace",
    "Infornexus": "InforNexus",
    "Amplitude": "Amplitude",
    "Veeva": "Veeva",
    "EventBridge": None,
    "LookoutMetrics": None,
    "Upsolver": None,
    "Honeycode": "Honeycode",
    "CustomerProfiles": None,
    "SAPOData": "SAPOData",
    "CustomConnector": "CustomConnector",
    "Pardot": "Pardot",
}

#: The 19 property blocks of the reference.
PROPERTY_BLOCKS: Final[tuple[str, ...]] = tuple(
    block for block in PROPERTY_BLOCK_KEYS.values() if block is not None
)

#: Regions with an AppFlow endpoint (botocore endpoints data).
APPFLOW_REGIONS: Final[tuple[str, ...]] = (
    "af-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)

#: Commercial regions enabled in every account.
DEFAULT_REGIONS: Final[tuple[str, ...]] = (
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)

#: Commercial regions an account must opt in to.
OPT_IN_REGIONS: Final[tuple[str, ...]] = (
    "af-south-1",
    "ap-east-1",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
)

ALL_REGIONS: Final[tuple[str, ...]] = tuple(sorted(DEFAULT_REGIONS + OPT_IN_REGIONS))
