"""Connector profiles: how `DescribeConnectorProfiles` lists and filters them, and building
realistic ones, with one property-block builder per connector."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._catalog import PROPERTY_BLOCK_KEYS
from ._context import ServerState
from ._listing import DEFAULT_PAGE, ListOperation, check_string, violation
from ._model import Kind

Profile = dict[str, Any]
"""One connector profile as AppFlow sends it (timestamps are epoch floats)."""

PROFILES = Kind(
    "profiles",
    name_key="connectorProfileName",
    arn_key="connectorProfileArn",
    arn_type="connectorprofile",
)

_NAME = re.compile(r"[\w/!@#+=.-]+", re.ASCII)
_LABEL = re.compile(r"[a-zA-Z0-9][\w!@#.-]+", re.ASCII)


@dataclass(frozen=True)
class ProfileFilter:
    """The filters of a DescribeConnectorProfiles request."""

    names: tuple[str, ...] | None = None
    connector_type: str | None = None
    connector_label: str | None = None

    def binding(self) -> str:
        """A string naming this filter, for binding paging tokens to it."""
        return f"{self.names!r}|{self.connector_type!r}|{self.connector_label!r}"

    def matches(self, profile: Profile) -> bool:
        """Whether a profile passes every filter given."""
        if self.names is not None and profile.get("connectorProfileName") not in self.names:
            return False
        if self.connector_type is not None and profile.get("connectorType") != self.connector_type:
            return False
        label = self.connector_label
        return label is None or profile.get("connectorLabel") == label


def _check_names(names: object, problems: list[str]) -> tuple[str, ...] | None:
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        problems.append(violation("connectorProfileNames", names, "be a list of strings"))
        return None
    if len(names) > 100:
        problems.append(
            violation("connectorProfileNames", names, "have length less than or equal to 100")
        )
    for name in names:
        if len(name) > 256 or _NAME.fullmatch(name) is None:
            problems.append(
                violation(
                    "connectorProfileNames.member",
                    name,
                    r"satisfy regular expression pattern: [\w/!@#+=.-]+",
                )
            )
    return tuple(sorted(set(names)))


def profile_filter(
    params: dict[str, Any], state: ServerState, problems: list[str]
) -> ProfileFilter:
    """The filters a DescribeConnectorProfiles request asks for, each checked."""
    names = _check_names(params.get("connectorProfileNames"), problems)
    connector_type = params.get("connectorType")
    if connector_type is not None and connector_type not in state.org.known_connector_types():
        problems.append(violation("connectorType", connector_type, "satisfy enum value set"))
    label = check_string("connectorLabel", params.get("connectorLabel"), _LABEL, 256, problems)
    return ProfileFilter(names, connector_type, label)


PROFILE_API = (
    ListOperation(
        "DescribeConnectorProfiles",
        PROFILES,
        b"connectorProfileDetails",
        select=profile_filter,
        default_page=DEFAULT_PAGE,
        short_pages=True,
    ),
)
"""`DescribeConnectorProfiles` (`POST /describe-connector-profiles`): pages of whole profiles,
filtered by names, connector type and label."""

# Connectors AppFlow can reach over PrivateLink.
_PRIVATE_CAPABLE = frozenset({"Salesforce", "Snowflake", "SAPOData", "CustomConnector"})

# Connectors that authenticate with an IAM role only, so they store no secret.
_NO_SECRET = frozenset({"S3", "EventBridge", "LookoutMetrics", "Upsolver", "CustomerProfiles"})

_FAILURE_CAUSES = (
    "CONNECTOR_AUTHENTICATION",
    "CONNECTOR_SERVER",
    "INTERNAL_SERVER",
    "ACCESS_DENIED",
    "VALIDATION",
)

_WORDS = (
    "sales", "crm", "marketing", "finance", "analytics", "warehouse", "prod", "dev", "staging",
    "eu", "us", "apac", "team", "ops", "billing", "support", "data", "lake", "events", "hr",
    "leads", "orders", "reporting", "sync", "main", "legacy",
)  # fmt: skip

_CUSTOM_LABELS = ("ZohoCRM", "jira-cloud", "MyConnector", "github.connector", "acme_erp", "Okta#2")

BlockBuilder = Callable[[random.Random, str, str, bool], dict[str, Any]]
"""(rng, account, region, private) -> property block."""


def _token(rng: random.Random, length: int, alphabet: str = string.ascii_lowercase) -> str:
    return "".join(rng.choices(alphabet, k=length))


def _instance_url(template: str) -> BlockBuilder:
    """A builder for the many blocks that hold only `instanceUrl`."""

    def build(rng: random.Random, account: str, region: str, private: bool) -> dict[str, Any]:
        return {"instanceUrl": template.format(t=_token(rng, 6), n=rng.randint(10000, 99999))}

    return build


def _empty(rng: random.Random, account: str, region: str, private: bool) -> dict[str, Any]:
    return {}


def _salesforce(rng: random.Random, account: str, region: str, private: bool) -> dict[str, Any]:
    sandbox = rng.random() < 0.3
    host = _token(rng, 7)
    url = (
        f"https://{host}--uat.sandbox.my.salesforce.com"
        if sandbox
        else f"https://{host}.my.salesforce.com"
    )
    block: dict[str, Any] = {"instanceUrl": url, "isSandboxEnvironment": sandbox}
    if private or rng.random() < 0.4:
        block["usePrivateLinkForMetadataAndAuthorization"] = private and rng.random() < 0.7
    return block


def _redshift(rng: random.Random, account: str, region: str, private: bool) -> dict[str, Any]:
    serverless = rng.random() < 0.4
    database = rng.choice(("dev", "analytics", "warehouse"))
    block: dict[str, Any] = {}
    if serverless:
        workgroup = f"wg-{_token(rng, 5)}"
        host = f"{workgroup}.{account}.{region}.redshift-serverless.amazonaws.com"
        block["databaseUrl"] = f"jdbc:redshift://{host}:5439/{database}"
    else:
        cluster = f"redshift-{_token(rng, 6)}"
        host = f"{cluster}.c{_token(rng, 10)}.{region}.redshift.amazonaws.com"
        block["databaseUrl"] = f"jdbc:redshift://{host}:5439/{database}"
    block["bucketName"] = f"appflow-redshift-{account}-{region}"
    if rng.random() < 0.6:
        block["bucketPrefix"] = rng.choice(("staging/", "appflow", "tmp/redshift/"))
    block["roleArn"] = f"arn:aws:iam::{account}:role/AppFlowRedshiftS3Access"
    if serverless or rng.random() < 0.5:
        block["dataApiRoleArn"] = f"arn:aws:iam::{account}:role/AppFlowRedshiftDataApi"
    block["isRedshiftServerless"] = serverless
    if serverless:
        block["workgroupName"] = workgroup
    else:
        block["clusterIdentifier"] = cluster
    block["databaseName"] = database
    return block


def _snowflake(rng: random.Random, account: str, region: str, private: bool) -> dict[str, Any]:
    block: dict[str, Any] = {
        "warehouse": rng.choice(("COMPUTE_WH", "APPFLOW_WH", "LOAD WH")),
        "stage": f"{rng.choice(('RAW', 'ANALYTICS'))}.PUBLIC.APPFLOW_STAGE",
        "bucketName": f"snowflake-stage-{account}",
    }
    if rng.random() < 0.5:
        block["bucketPrefix"] = "appflow/"
    if private or rng.random() < 0.2:
        block["privateLinkServiceName"] = (
            f"com.amazonaws.vpce.{region}.vpce-svc-{_token(rng, 17, string.hexdigits.lower())}"
        )
    block["accountName"] = f"{_token(rng, 2).upper()}{rng.randint(10000, 99999)}"
    block["region"] = rng.choice((region, "us-west-2", "eu-central-1"))
    return block


def _sapodata(rng: random.Random, account: str, region: str, private: bool) -> dict[str, Any]:
    block: dict[str, Any] = {
        "applicationHostUrl": f"https://sap-{_token(rng, 4)}.example.com",
        "applicationServicePath": "/sap/opu/odata/iwfnd/catalogservice;v=2",
        "portNumber": rng.choice((443, 8443, 44300, 50001)),
        "clientNumber": f"{rng.randint(0, 999):03d}",
        "logonLanguage": rng.choice(("EN", "DE", "FR")),
    }
    if private or rng.random() < 0.2:
        block["privateLinkServiceName"] = f"com.amazonaws.vpce.{region}.vpce-svc-{_token(rng, 17)}"
    if rng.random() < 0.6:
        scopes = rng.sample(("API_BUSINESS_PARTNER", "ZSALES", "openid", "offline_access"), 2)
        block["oAuthProperties"] = {
            "tokenUrl": f"{block['applicationHostUrl']}/sap/bc/sec/oauth2/token",
            "authCodeUrl": f"{block['applicationHostUrl']}/sap/bc/sec/oauth2/authorize",
            "oAuthScopes": scopes,
        }
    if rng.random() < 0.5:
        block["disableSSO"] = rng.random() < 0.5
    return block


def _custom(rng: random.Random, account: str, region: str, private: bool) -> dict[str, Any]:
    block: dict[str, Any] = {}
    if rng.random() < 0.8:
        block["profileProperties"] = {
            "instanceUrl": f"https://{_token(rng, 6)}.example.net",
            "api_version": rng.choice(("v1", "v2", "2023-01")),
        }
    if rng.random() < 0.6:
        grant = rng.choice(("CLIENT_CREDENTIALS", "AUTHORIZATION_CODE", "JWT_BEARER"))
        oauth: dict[str, Any] = {
            "tokenUrl": f"https://auth.{_token(rng, 5)}.example.net/oauth2/token",
            "oAuth2GrantType": grant,
        }
        if rng.random() < 0.6:
            oauth["tokenUrlCustomProperties"] = {"audience": "api", "resource": _token(rng, 8)}
        block["oAuth2Properties"] = oauth
    return block


def _pardot(rng: random.Random, account: str, region: str, private: bool) -> dict[str, Any]:
    sandbox = rng.random() < 0.3
    return {
        "instanceUrl": "https://pi.demo.pardot.com" if sandbox else "https://pi.pardot.com",
        "isSandboxEnvironment": sandbox,
        "businessUnitId": "0Uv" + _token(rng, 12, string.ascii_letters + string.digits) + "AAA",
    }


BLOCK_BUILDERS: dict[str, BlockBuilder] = {
    "Amplitude": _empty,
    "Datadog": _instance_url("https://api.datadoghq.com"),
    "Dynatrace": _instance_url("https://{t}{n}.live.dynatrace.com"),
    "GoogleAnalytics": _empty,
    "Honeycode": _empty,
    "InforNexus": _instance_url("https://network.infornexus.com/{t}"),
    "Marketo": _instance_url("https://{n}-{t}.mktorest.com"),
    "Redshift": _redshift,
    "Salesforce": _salesforce,
    "ServiceNow": _instance_url("https://{t}{n}.service-now.com"),
    "Singular": _empty,
    "Slack": _instance_url("https://{t}.slack.com"),
    "Snowflake": _snowflake,
    "Trendmicro": _empty,
    "Veeva": _instance_url("https://{t}.veevavault.com"),
    "Zendesk": _instance_url("https://{t}.zendesk.com"),
    "SAPOData": _sapodata,
    "CustomConnector": _custom,
    "Pardot": _pardot,
}


def properties_for(
    connector_type: str, rng: random.Random, account: str, region: str, private: bool
) -> dict[str, Any]:
    """The `connectorProfileProperties` object for a type (unknown types: an empty block)."""
    block = PROPERTY_BLOCK_KEYS.get(connector_type, connector_type)
    if block is None:
        return {}
    builder = BLOCK_BUILDERS.get(block, _empty)
    return {block: builder(rng, account, region, private)}


def make_name(rng: random.Random, connector_type: str) -> str:
    """A profile name; some hold `/ + = @ # ! .` and a few are the full 256 chars."""
    roll = rng.random()
    if roll < 0.01:
        return (connector_type.lower() + "-" + _token(rng, 256, string.ascii_lowercase))[:256]
    words = rng.sample(_WORDS, rng.randint(1, 3))
    # A quarter of the names use the characters that break naive URL or CSV handling.
    seps = rng.choices("/+=@#!." if roll < 0.25 else "-_", k=len(words))
    parts = [connector_type.lower()]
    for sep, word in zip(seps, words, strict=True):
        parts += [sep, word]
    return "".join(parts)


def _private_state(rng: random.Random) -> dict[str, Any]:
    status = rng.choices(("CREATED", "PENDING", "FAILED"), weights=(70, 15, 15))[0]
    state: dict[str, Any] = {"status": status}
    if status == "FAILED":
        state["failureMessage"] = rng.choice(
            (
                "The endpoint service is not available in the Availability Zone.",
                "Access denied by the endpoint service acceptance settings.",
                "Connection to the connector server timed out.",
            )
        )
        state["failureCause"] = rng.choice(_FAILURE_CAUSES)
    return state


def make_profile(
    connector_type: str,
    name: str,
    account: str,
    region: str,
    rng: random.Random,
    **overrides: Any,
) -> Profile:
    """One connector profile as AppFlow sends it; an override of None removes that field."""
    private = connector_type in _PRIVATE_CAPABLE and rng.random() < 0.2
    created = round(rng.uniform(1_598_918_400.0, 1_748_736_000.0), 3)
    profile: Profile = {
        "connectorProfileArn": f"arn:aws:appflow:{region}:{account}:connectorprofile/{name}",
        "connectorProfileName": name,
        "connectorType": connector_type,
    }
    if connector_type == "CustomConnector":
        profile["connectorLabel"] = rng.choice(_CUSTOM_LABELS)
    profile["connectionMode"] = "Private" if private else "Public"
    if connector_type not in _NO_SECRET and rng.random() < 0.85:
        suffix = _token(rng, 6, string.ascii_letters)
        profile["credentialsArn"] = (
            f"arn:aws:secretsmanager:{region}:{account}:secret:"
            f"appflow!{account}-{name[:40]}-{int(created)}-{suffix}"
        )
    profile["connectorProfileProperties"] = properties_for(
        connector_type, rng, account, region, private
    )
    profile["createdAt"] = created
    if rng.random() < 0.9:
        profile["lastUpdatedAt"] = round(created + rng.uniform(0.0, 30_000_000.0), 3)
    if private and rng.random() < 0.9:
        profile["privateConnectionProvisioningState"] = _private_state(rng)
    for key, value in overrides.items():
        if value is None:
            profile.pop(key, None)
        else:
            profile[key] = value
    return profile
