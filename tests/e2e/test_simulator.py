"""The AWS simulator, driven through the real aiobotocore client over localhost."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore import UNSIGNED
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from collector.simulator import (
    BASE_ACCESS_KEY_ID,
    BASE_SECRET_ACCESS_KEY,
    CONNECTOR_TYPES,
    PROPERTY_BLOCK_KEYS,
    PROPERTY_BLOCKS,
    Burst,
    Faults,
    Organization,
    ScopeKey,
    Simulator,
    generate_organization,
    make_profile,
    mutate,
)
from collector.simulator._control import apply_faults

from ..support import ROLE

ROOT = Path(__file__).resolve().parents[2]
Credentials = tuple[str, str, str | None]
BASE: Credentials = (BASE_ACCESS_KEY_ID, BASE_SECRET_ACCESS_KEY, None)

# Every field of every property block in the DescribeConnectorProfiles reference.
REFERENCE_FIELDS: dict[str, set[str]] = {
    "Amplitude": set(),
    "Datadog": {"instanceUrl"},
    "Dynatrace": {"instanceUrl"},
    "GoogleAnalytics": set(),
    "Honeycode": set(),
    "InforNexus": {"instanceUrl"},
    "Marketo": {"instanceUrl"},
    "Redshift": {
        "databaseUrl", "bucketName", "bucketPrefix", "roleArn", "dataApiRoleArn",
        "isRedshiftServerless", "clusterIdentifier", "workgroupName", "databaseName",
    },
    "Salesforce": {
        "instanceUrl", "isSandboxEnvironment", "usePrivateLinkForMetadataAndAuthorization",
    },
    "ServiceNow": {"instanceUrl"},
    "Singular": set(),
    "Slack": {"instanceUrl"},
    "Snowflake": {
        "warehouse", "stage", "bucketName", "bucketPrefix", "privateLinkServiceName",
        "accountName", "region",
    },
    "Trendmicro": set(),
    "Veeva": {"instanceUrl"},
    "Zendesk": {"instanceUrl"},
    "SAPOData": {
        "applicationHostUrl", "applicationServicePath", "portNumber", "clientNumber",
        "logonLanguage", "privateLinkServiceName", "oAuthProperties.tokenUrl",
        "oAuthProperties.authCodeUrl", "oAuthProperties.oAuthScopes", "disableSSO",
    },
    "CustomConnector": {
        "profileProperties", "oAuth2Properties.tokenUrl", "oAuth2Properties.oAuth2GrantType",
        "oAuth2Properties.tokenUrlCustomProperties",
    },
    "Pardot": {"instanceUrl", "isSandboxEnvironment", "businessUnitId"},
}  # fmt: skip


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def org() -> Organization:
    """A small organization with two inactive accounts and some short-page scopes."""
    return generate_organization(
        2024, accounts=8, empty_fraction=0.7, inactive_accounts=2, short_page_fraction=0.3
    )


@pytest.fixture(scope="module")
def session() -> Any:
    """One botocore session for the module: it caches service models between clients."""
    return AioSession()


class Aws:
    """Clients of one simulator, without retries."""

    def __init__(self, session: Any, sim: Simulator) -> None:
        self.session = session
        self.sim = sim

    @asynccontextmanager
    async def client(
        self,
        service: str,
        region: str = "us-east-1",
        credentials: Credentials = BASE,
        **config: Any,
    ) -> AsyncIterator[Any]:
        """An aiobotocore client for the simulator."""
        key, secret, token = credentials
        retries = AioConfig(retries={"mode": "standard", "total_max_attempts": 1}, **config)
        async with self.session.create_client(
            service,
            region_name=region,
            endpoint_url=self.sim.endpoint_url,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=retries,
        ) as made:
            yield made

    async def assume(self, account: str, **params: Any) -> Credentials:
        """Credentials for the member role in `account`."""
        async with self.client("sts") as sts:
            answer = await sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{ROLE}",
                RoleSessionName="inventory",
                **params,
            )
        creds = answer["Credentials"]
        return creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]


@pytest.fixture
def aws(session: Any, sim: Simulator) -> Aws:
    """Clients of the running simulator."""
    return Aws(session, sim)


def capture_bodies(appflow: Any) -> list[dict[str, Any]]:
    """Collect the raw JSON bodies of the client's DescribeConnectorProfiles answers."""
    bodies: list[dict[str, Any]] = []

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        if response_dict["status_code"] == 200:
            bodies.append(json.loads(response_dict["body"]))

    appflow.meta.events.register("before-parse.appflow.DescribeConnectorProfiles", keep)
    return bodies


async def list_all(appflow: Any, **params: Any) -> list[dict[str, Any]]:
    """Every parsed profile of a listing, following nextToken."""
    profiles: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = await appflow.describe_connector_profiles(
            **params, **({"nextToken": token} if token else {})
        )
        profiles += page["connectorProfileDetails"]
        token = page.get("nextToken")
        if not token:
            return profiles


def largest_scope(org: Organization, short: bool = False) -> ScopeKey:
    """The active scope with the most profiles, among short-page scopes or the others."""
    candidates = [
        key
        for key in org.scopes()
        if org.accounts[key[0]].state == "ACTIVE" and (key in org.short_page_sizes) == short
    ]
    return max(candidates, key=lambda key: len(org.profiles(*key)))


def error_code(info: pytest.ExceptionInfo[ClientError]) -> str:
    """The AWS error code of a ClientError."""
    return str(info.value.response["Error"]["Code"])


async def test_assumed_role_listing_returns_exactly_the_scope_profiles(
    aws: Aws, sim: Simulator, org: Organization
) -> None:
    """Paging to the end with assumed credentials yields the scope's profiles, as stored."""
    account, region = largest_scope(org)
    expected = org.profiles(account, region)
    assert len(expected) > 20
    async with aws.client("appflow", region, await aws.assume(account)) as appflow:
        bodies = capture_bodies(appflow)
        parsed = await list_all(appflow)
    assert bodies[0]["connectorProfileDetails"] == expected[:20]
    assert [p for body in bodies for p in body["connectorProfileDetails"]] == expected
    assert "nextToken" not in bodies[-1]
    assert [p["connectorProfileArn"] for p in parsed] == [
        p["connectorProfileArn"] for p in expected
    ]
    assert sim.stats.scopes[(account, region)] == len(bodies)


async def test_short_pages_carry_a_next_token(aws: Aws, org: Organization) -> None:
    """A short-page scope answers fewer items than maxResults and still a nextToken."""
    account, region = largest_scope(org, short=True)
    cap = org.short_page_sizes[(account, region)]
    total = len(org.profiles(account, region))
    assert total > cap
    async with aws.client("appflow", region, await aws.assume(account)) as appflow:
        first = await appflow.describe_connector_profiles(maxResults=100)
        everything = await list_all(appflow, maxResults=100)
    assert len(first["connectorProfileDetails"]) == cap
    assert first["nextToken"]
    assert len(everything) == total


async def test_max_results_above_100_is_a_validation_error(aws: Aws) -> None:
    """maxResults=101 passes botocore's checks and is rejected by the service."""
    async with aws.client("appflow") as appflow:
        with pytest.raises(ClientError) as info:
            await appflow.describe_connector_profiles(maxResults=101)
    assert error_code(info) == "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


async def test_bogus_and_foreign_tokens_are_validation_errors(aws: Aws, org: Organization) -> None:
    """A made-up or edited token, or one issued for another region or filter, is rejected."""
    account, region = largest_scope(org)
    credentials = await aws.assume(account)
    async with aws.client("appflow", region, credentials) as appflow:
        token = (await appflow.describe_connector_profiles(maxResults=1))["nextToken"]
        attempts = [
            {"nextToken": "bogus-token"},
            {"nextToken": token + "x"},
            {"nextToken": token, "connectorType": "Salesforce"},
        ]
        for params in attempts:
            with pytest.raises(ClientError) as info:
                await appflow.describe_connector_profiles(maxResults=1, **params)
            assert error_code(info) == "ValidationException"
    other = "eu-west-3" if region != "eu-west-3" else "eu-west-2"
    async with aws.client("appflow", other, credentials) as appflow:
        with pytest.raises(ClientError) as info:
            await appflow.describe_connector_profiles(maxResults=1, nextToken=token)
    assert error_code(info) == "ValidationException"


@pytest.mark.parametrize(
    ("setting", "code", "status"),
    [
        ({"error_rate_500": 1.0}, "InternalServerException", 500),
        ({"error_rate_429": 1.0}, "ThrottlingException", 429),
        (
            {"failing_scopes": {("111122223333", "us-east-1"): "AccessDeniedException"}},
            "AccessDeniedException",
            403,
        ),
    ],
)
async def test_injected_errors_surface_with_their_codes(
    aws: Aws, sim: Simulator, setting: dict[str, Any], code: str, status: int
) -> None:
    """Error faults reach the client as ClientErrors with the AWS code and status."""
    for name, value in setting.items():
        setattr(sim.faults, name, value)
    async with aws.client("appflow") as appflow:
        with pytest.raises(ClientError) as info:
            await appflow.describe_connector_profiles()
    assert error_code(info) == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


async def test_fault_decisions_repeat_for_a_seed(aws: Aws, sim: Simulator) -> None:
    """With the same fault seed the same requests fail."""

    async def outcomes() -> list[bool]:
        results = []
        async with aws.client("appflow") as appflow:
            for _ in range(12):
                try:
                    await appflow.describe_connector_profiles()
                    results.append(True)
                except ClientError:
                    results.append(False)
        return results

    sim.faults.error_rate_500 = 0.5
    sim.faults.reseed(3)
    first = await outcomes()
    sim.faults.reseed(3)
    assert await outcomes() == first
    assert True in first
    assert False in first


async def test_assume_role_refusals_are_access_denied(session: Any, org: Organization) -> None:
    """Denied or inactive accounts, other role names and wrong external ids are refused."""
    org.required_external_id = "ext-123"
    member = next(a.id for a in org.account_list()[1:] if a.state == "ACTIVE")
    inactive = next(a.id for a in org.account_list() if a.state != "ACTIVE")
    refused = [
        (member, ROLE, "ext-123"),
        (inactive, ROLE, "ext-123"),
        (org.management_account_id, "OtherRole", "ext-123"),
        (org.management_account_id, ROLE, "wrong"),
        ("999999999999", ROLE, "ext-123"),
    ]
    with Simulator(org, Faults(deny_assume_role={member})) as sim:
        async with Aws(session, sim).client("sts") as sts:
            for account, role, external_id in refused:
                with pytest.raises(ClientError) as info:
                    await sts.assume_role(
                        RoleArn=f"arn:aws:iam::{account}:role/{role}",
                        RoleSessionName="inventory",
                        ExternalId=external_id,
                    )
                assert error_code(info) == "AccessDenied"
                assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
            await sts.assume_role(
                RoleArn=f"arn:aws:iam::{org.management_account_id}:role/{ROLE}",
                RoleSessionName="inventory",
                ExternalId="ext-123",
            )


async def test_assume_role_validates_its_parameters(aws: Aws, org: Organization) -> None:
    """Out-of-range DurationSeconds and malformed role ARNs are ValidationErrors."""
    good_arn = f"arn:aws:iam::{org.management_account_id}:role/{ROLE}"
    async with aws.client("sts") as sts:
        for role_arn, duration in [(good_arn, 43201), ("arn:aws:iam::12:role/x", 3600)]:
            with pytest.raises(ClientError) as info:
                await sts.assume_role(
                    RoleArn=role_arn, RoleSessionName="inventory", DurationSeconds=duration
                )
            assert error_code(info) == "ValidationError"


async def test_roles_keep_the_default_one_hour_maximum_session(aws: Aws, org: Organization) -> None:
    """A role's MaxSessionDuration is 3600 s unless raised: 3600 s is granted, 3601 s is a
    ValidationError in STS's words, though the API accepts up to 43200."""
    role_arn = f"arn:aws:iam::{org.account_list()[1].id}:role/{ROLE}"
    async with aws.client("sts") as sts:
        granted = await sts.assume_role(
            RoleArn=role_arn, RoleSessionName="inventory", DurationSeconds=3600
        )
        assert granted["Credentials"]["AccessKeyId"]
        with pytest.raises(ClientError) as info:
            await sts.assume_role(
                RoleArn=role_arn, RoleSessionName="inventory", DurationSeconds=3601
            )
    assert error_code(info) == "ValidationError"
    assert "MaxSessionDuration" in info.value.response["Error"]["Message"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


async def test_caller_identity_names_the_assumed_role(aws: Aws, org: Organization) -> None:
    """GetCallerIdentity names the management account for base keys, the session otherwise."""
    member = org.account_list()[1].id
    async with aws.client("sts") as sts:
        base = await sts.get_caller_identity()
    async with aws.client("sts", credentials=await aws.assume(member)) as sts:
        assumed = await sts.get_caller_identity()
    assert base["Account"] == org.management_account_id
    assert assumed["Account"] == member
    assert assumed["Arn"] == f"arn:aws:sts::{member}:assumed-role/{ROLE}/inventory"
    assert assumed["UserId"].startswith("AROA")
    assert assumed["UserId"].endswith(":inventory")


async def test_list_accounts_pages_through_every_account_with_state(
    aws: Aws, org: Organization
) -> None:
    """ListAccounts in pages of three returns every account with its State."""
    seen: dict[str, str] = {}
    async with aws.client("organizations") as organizations:
        params: dict[str, Any] = {"MaxResults": 3}
        while True:
            page = await organizations.list_accounts(**params)
            assert len(page["Accounts"]) <= 3
            seen.update({a["Id"]: a["State"] for a in page["Accounts"]})
            if "NextToken" not in page:
                break
            params["NextToken"] = page["NextToken"]
        with pytest.raises(ClientError) as info:
            await organizations.list_accounts(MaxResults=21)
    assert error_code(info) == "InvalidInputException"
    assert seen == {a.id: a.state for a in org.account_list()}
    assert {"ACTIVE", "SUSPENDED"} <= set(seen.values())


async def test_member_accounts_cannot_call_organizations(aws: Aws, org: Organization) -> None:
    """Only the management account may list the organization."""
    member = org.account_list()[1].id
    async with aws.client("organizations", credentials=await aws.assume(member)) as orgs:
        with pytest.raises(ClientError) as info:
            await orgs.list_accounts()
    assert error_code(info) == "AccessDeniedException"


async def test_ou_tree_reaches_every_account(aws: Aws, org: Organization) -> None:
    """Walking the root and two levels of OUs finds every account."""
    found: set[str] = set()
    depth = 0
    async with aws.client("organizations") as organizations:
        level = [(await organizations.list_roots())["Roots"][0]["Id"]]
        while level:
            below: list[str] = []
            for parent in level:
                accounts = await organizations.list_accounts_for_parent(ParentId=parent)
                found |= {a["Id"] for a in accounts["Accounts"]}
                ous = await organizations.list_organizational_units_for_parent(ParentId=parent)
                ou_ids = [ou["Id"] for ou in ous["OrganizationalUnits"]]
                children = await organizations.list_children(
                    ParentId=parent, ChildType="ORGANIZATIONAL_UNIT"
                )
                assert [c["Id"] for c in children["Children"]] == ou_ids
                below += ou_ids
            level, depth = below, depth + 1
        described = await organizations.describe_organization()
    assert found == set(org.accounts)
    assert depth == 3  # the root, then two levels of OUs
    assert described["Organization"]["MasterAccountId"] == org.management_account_id


async def test_describe_regions_honours_opt_in(aws: Aws, org: Organization) -> None:
    """Only enabled regions are listed unless AllRegions; a disabled region refuses calls."""
    account = org.account_list()[1]
    account.enabled_opt_in_regions = {"af-south-1"}
    credentials = await aws.assume(account.id)
    async with aws.client("ec2", credentials=credentials) as ec2:
        enabled = (await ec2.describe_regions())["Regions"]
        everything = (await ec2.describe_regions(AllRegions=True))["Regions"]
    async with aws.client("ec2", "me-south-1", credentials) as ec2:
        with pytest.raises(ClientError) as info:
            await ec2.describe_regions()
    assert error_code(info) == "AuthFailure"
    listed = {r["RegionName"]: r["OptInStatus"] for r in enabled}
    listed_all = {r["RegionName"]: r["OptInStatus"] for r in everything}
    assert listed["af-south-1"] == "opted-in"
    assert listed["us-east-1"] == "opt-in-not-required"
    assert "me-south-1" not in listed
    assert listed_all["me-south-1"] == "not-opted-in"
    assert len(listed_all) >= 30


async def test_appflow_in_a_disabled_opt_in_region_is_unrecognized(
    aws: Aws, org: Organization
) -> None:
    """AppFlow in an opt-in region the account has not enabled rejects the token."""
    account = org.account_list()[1]
    account.enabled_opt_in_regions = set()
    credentials = await aws.assume(account.id)
    async with aws.client("appflow", "af-south-1", credentials) as appflow:
        with pytest.raises(ClientError) as info:
            await appflow.describe_connector_profiles()
    assert error_code(info) == "UnrecognizedClientException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


async def test_dropped_connection_is_a_connection_error(aws: Aws, sim: Simulator) -> None:
    """A connection closed without an answer surfaces as ConnectionClosedError."""
    sim.faults.drop_rate = 1.0
    async with aws.client("appflow") as appflow:
        with pytest.raises(ConnectionClosedError):
            await appflow.describe_connector_profiles()
    assert sim.stats.statuses[0] == 1


async def test_expired_credentials_are_rejected(session: Any, org: Organization) -> None:
    """Once the simulator's clock passes a session's expiry, every service refuses its key."""
    clock = FakeClock()
    member = org.account_list()[1].id
    with Simulator(org, clock=clock) as sim:
        aws = Aws(session, sim)
        credentials = await aws.assume(member, DurationSeconds=900)
        async with aws.client("appflow", "us-east-1", credentials) as appflow:
            await appflow.describe_connector_profiles()
            clock.now += 901
            with pytest.raises(ClientError) as info:
                await appflow.describe_connector_profiles()
        assert error_code(info) == "ExpiredTokenException"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        async with aws.client("sts", credentials=credentials) as sts:
            with pytest.raises(ClientError) as info:
                await sts.get_caller_identity()
        # STS's model says ExpiredTokenException; the wire says ExpiredToken, with 403.
        assert error_code(info) == "ExpiredToken"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


async def test_lifetime_cap_shortens_issued_credentials(session: Any, org: Organization) -> None:
    """With a lifetime cap, AssumeRole's Expiration is at most the cap away."""
    with Simulator(org, credential_lifetime_cap=60.0) as sim:
        async with Aws(session, sim).client("sts") as sts:
            answer = await sts.assume_role(
                RoleArn=f"arn:aws:iam::{org.management_account_id}:role/{ROLE}",
                RoleSessionName="inventory",
                DurationSeconds=3600,
            )
    remaining = answer["Credentials"]["Expiration"].timestamp() - time.time()
    assert 0 < remaining <= 61


async def test_unknown_session_keys_and_missing_signatures_are_refused(aws: Aws) -> None:
    """An ASIA key the simulator never issued, or an unsigned request, is refused."""
    unknown = ("ASIAUNKNOWN000000000", "secret", "token")
    async with aws.client("appflow", credentials=unknown) as appflow:
        with pytest.raises(ClientError) as info:
            await appflow.describe_connector_profiles()
    assert error_code(info) == "UnrecognizedClientException"
    async with aws.client("appflow", signature_version=UNSIGNED) as appflow:
        with pytest.raises(ClientError) as info:
            await appflow.describe_connector_profiles()
    assert error_code(info) == "MissingAuthenticationTokenException"
    async with aws.client("sts", signature_version=UNSIGNED) as sts:
        with pytest.raises(ClientError) as info:
            await sts.get_caller_identity()
    assert error_code(info) == "MissingAuthenticationToken"


def _property_fields(profiles: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Block -> field paths seen (one level into the OAuth objects)."""
    fields: dict[str, set[str]] = {block: set() for block in PROPERTY_BLOCKS}
    for profile in profiles:
        for block, values in profile["connectorProfileProperties"].items():
            assert block == PROPERTY_BLOCK_KEYS[profile["connectorType"]]
            for name, value in values.items():
                nested = name in ("oAuthProperties", "oAuth2Properties")
                fields[block] |= {f"{name}.{inner}" for inner in value} if nested else {name}
    return fields


def test_generated_organization_covers_the_whole_api_reference() -> None:
    """A 50-account organization holds all 24 types and every field of every property block."""
    org = generate_organization(7, accounts=50)
    profiles = [profile for _, profile in org.all_profiles()]
    assert {p["connectorType"] for p in profiles} == set(CONNECTOR_TYPES)
    assert _property_fields(profiles) == REFERENCE_FIELDS
    sandbox = {
        p["connectorProfileProperties"]["Salesforce"]["isSandboxEnvironment"]
        for p in profiles
        if p["connectorType"] == "Salesforce"
    }
    assert sandbox == {True, False}
    states = [p.get("privateConnectionProvisioningState") or {} for p in profiles]
    assert any(s.get("status") == "FAILED" and s["failureCause"] for s in states)
    assert {p["connectionMode"] for p in profiles} == {"Public", "Private"}
    for optional in ("credentialsArn", "lastUpdatedAt", "privateConnectionProvisioningState"):
        assert any(optional not in p for p in profiles)
    labelled = [p for p in profiles if "connectorLabel" in p]
    assert {p["connectorType"] for p in labelled} == {"CustomConnector"}
    assert any(set("/+=@#") & set(p["connectorProfileName"]) for p in profiles)
    assert any(account_id.startswith("0") for account_id in org.accounts)


def test_generation_is_deterministic_for_a_seed() -> None:
    """The same seed generates the same organization."""
    first, second = generate_organization(5, accounts=6), generate_organization(5, accounts=6)
    assert first.all_profiles() == second.all_profiles()
    assert list(first.accounts) == list(second.accounts)


async def test_every_connector_type_parses_in_botocore(aws: Aws, org: Organization) -> None:
    """A profile of each of the 24 types round trips through botocore's parser."""
    account, region = org.management_account_id, "ca-central-1"
    rng = random.Random(1)
    for connector_type in CONNECTOR_TYPES:
        name = f"every-{connector_type}"
        org.put_profile(account, region, make_profile(connector_type, name, account, region, rng))
    async with aws.client("appflow", region) as appflow:
        parsed = await list_all(appflow, maxResults=7)
    every = {
        p["connectorType"]: p for p in parsed if p["connectorProfileName"].startswith("every-")
    }
    assert set(every) == set(CONNECTOR_TYPES)
    for connector_type, profile in every.items():
        block = PROPERTY_BLOCK_KEYS[connector_type]
        assert list(profile["connectorProfileProperties"]) == ([block] if block else [])
        assert profile["createdAt"].timestamp() > 1_500_000_000


async def test_names_with_special_characters_round_trip(aws: Aws, org: Organization) -> None:
    """Names holding / + = @ # ! come back unchanged, also when asked for by name."""
    account, region = org.management_account_id, "eu-west-2"
    names = ["team/sales+crm=main@eu#1", "a.b-c_d!e", "x" * 256]
    rng = random.Random(2)
    for name in names:
        org.put_profile(account, region, make_profile("Salesforce", name, account, region, rng))
    async with aws.client("appflow", region) as appflow:
        listed = [p["connectorProfileName"] for p in await list_all(appflow)]
        chosen = await appflow.describe_connector_profiles(connectorProfileNames=names[:2])
    assert set(names) <= set(listed)
    details = chosen["connectorProfileDetails"]
    assert sorted(p["connectorProfileName"] for p in details) == sorted(names[:2])
    for profile in details:
        suffix = f":connectorprofile/{profile['connectorProfileName']}"
        assert profile["connectorProfileArn"].endswith(suffix)


async def test_unknown_connector_type_passes_through(aws: Aws, org: Organization) -> None:
    """A connector type and property block AWS added later reach the client on the wire."""
    account, region = org.management_account_id, "us-west-1"
    block = {"Glue": {"catalogId": "123456789012"}}
    glue = make_profile(
        "Glue", "catalog", account, region, random.Random(3), connectorProfileProperties=block
    )
    org.put_profile(account, region, glue)
    async with aws.client("appflow", region) as appflow:
        bodies = capture_bodies(appflow)
        parsed = await appflow.describe_connector_profiles(connectorType="Glue")
    assert [p["connectorType"] for p in parsed["connectorProfileDetails"]] == ["Glue"]
    assert bodies[0]["connectorProfileDetails"][0]["connectorProfileProperties"] == block


async def test_changes_while_serving_show_in_the_next_listing(aws: Aws, org: Organization) -> None:
    """Profiles deleted, created or mutated between listings show in the next listing."""
    account, region = largest_scope(org)
    async with aws.client("appflow", region, await aws.assume(account)) as appflow:
        before = {p["connectorProfileArn"] for p in await list_all(appflow)}
        victim = org.profiles(account, region)[0]
        assert org.delete_profile(account, region, victim["connectorProfileName"])
        added = make_profile("Slack", "brand-new", account, region, random.Random(4))
        org.put_profile(account, region, added)
        after = {p["connectorProfileArn"] for p in await list_all(appflow)}
    assert after == (before - {victim["connectorProfileArn"]}) | {added["connectorProfileArn"]}
    summary = mutate(org, random.Random(5), creates=3, updates=3, deletes=3)
    assert (len(summary.created), len(summary.updated), len(summary.deleted)) == (3, 3, 3)
    arns = {p["connectorProfileArn"] for _, p in org.all_profiles()}
    assert set(summary.created) | set(summary.updated) <= arns
    assert not set(summary.deleted) & arns


async def test_repeat_token_fault_loops_on_one_token(
    aws: Aws, sim: Simulator, org: Organization
) -> None:
    """From page N of a repeat-token scope, the same nextToken comes back forever."""
    account, region = largest_scope(org)
    sim.faults.repeat_token_scopes[(account, region)] = 2
    async with aws.client("appflow", region, await aws.assume(account)) as appflow:
        first = await appflow.describe_connector_profiles(maxResults=5)
        token = first["nextToken"]
        for _ in range(2):
            page = await appflow.describe_connector_profiles(maxResults=5, nextToken=token)
            assert page["nextToken"] == token


async def test_token_invalid_after_pages_fault(aws: Aws, sim: Simulator, org: Organization) -> None:
    """The token for page K+1 of a scope with that fault is a ValidationException."""
    account, region = largest_scope(org)
    sim.faults.invalid_token_after_pages[(account, region)] = 1
    async with aws.client("appflow", region, await aws.assume(account)) as appflow:
        first = await appflow.describe_connector_profiles(maxResults=5)
        with pytest.raises(ClientError) as info:
            await appflow.describe_connector_profiles(maxResults=5, nextToken=first["nextToken"])
    assert error_code(info) == "ValidationException"


async def test_malformed_json_parses_to_an_answer_without_profiles(
    aws: Aws, sim: Simulator
) -> None:
    """botocore turns a cut-short 200 body into {"message": ...}, silently dropping the list."""
    sim.faults.malformed_json_rate = 1.0
    async with aws.client("appflow") as appflow:
        answer = await appflow.describe_connector_profiles()
    assert "connectorProfileDetails" not in answer
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200


async def test_slow_scope_outlasts_the_client_timeout(aws: Aws, sim: Simulator) -> None:
    """A slow scope answers later than the client's read timeout allows."""
    sim.faults.slow_scopes.add((sim.org.management_account_id, "us-east-1"))
    sim.faults.slow_seconds = 30.0
    async with aws.client("appflow", read_timeout=0.3) as appflow:
        with pytest.raises(ReadTimeoutError):
            await appflow.describe_connector_profiles()


async def test_latency_delays_every_request(aws: Aws, sim: Simulator) -> None:
    """Configured latency holds each answer back at least its lower bound."""
    sim.faults.latency, sim.faults.latency_jitter = 0.05, 0.2
    async with aws.client("sts") as sts:
        started = time.perf_counter()
        for _ in range(3):
            await sts.get_caller_identity()
    assert time.perf_counter() - started >= 3 * 0.04


async def test_stats_count_requests_and_reset(aws: Aws, sim: Simulator) -> None:
    """Stats count requests per operation and status, and reset to zero."""
    async with aws.client("appflow") as appflow:
        await appflow.describe_connector_profiles()
        with pytest.raises(ClientError):
            await appflow.describe_connector_profiles(maxResults=101)
    assert sim.stats.count("appflow", "DescribeConnectorProfiles") == 2
    assert sim.stats.statuses[200] == 1
    assert sim.stats.statuses[400] == 1
    sim.stats.reset()
    assert sim.stats.total == 0


async def test_env_points_default_clients_at_the_simulator(
    session: Any, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client configured only by `sim.env()` reaches the simulator as the management account."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    async with AioSession().create_client("sts") as sts:
        identity = await sts.get_caller_identity()
    assert identity["Account"] == sim.org.management_account_id


async def test_command_line_serves_and_controls() -> None:
    """`python -m collector.simulator` prints its URL, serves, and answers control requests."""
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "collector.simulator", "--accounts", "4", "--seed", "9"],
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode()
        assert line.startswith("listening http://127.0.0.1:")
        url = line.split()[1]
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}/_sim/mutate", json={"seed": 1, "creates": 2}) as reply:
                assert len((await reply.json())["created"]) == 2
            async with http.get(f"{url}/_sim/stats") as reply:
                assert (await reply.json())["total"] == 0
            async with http.post(f"{url}/_sim/reset-stats") as reply:
                assert reply.status == 200
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0


def test_command_line_refuses_a_host_beyond_loopback() -> None:
    """`--host 0.0.0.0` without `--public` exits 2 with one line and serves nothing: the
    simulator checks no signature and takes faults from whoever reaches it."""
    done = subprocess.run(
        [sys.executable, "-m", "collector.simulator", "--accounts", "2", "--host", "0.0.0.0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "not a loopback address" in done.stderr
    assert "--public" in done.stderr


async def test_public_command_line_guards_its_controls_with_a_printed_token(
    session: Any,
) -> None:
    """With `--public` the simulator serves any address and prints a control token first;
    `/_sim` answers 403 to a request without it (or with another), and only the token's
    bearer can set faults: STS keeps answering until they do."""
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "collector.simulator", "--accounts", "2", "--host", "0.0.0.0"],
        "--public",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first = (await process.stdout.readline()).decode().split()
        assert first[0] == "control-token"
        token = first[1]
        assert len(token) >= 40
        listening = (await process.stdout.readline()).decode()
        assert listening.startswith("listening http://0.0.0.0:")
        url = f"http://127.0.0.1:{listening.strip().rsplit(':', 1)[1]}"
        throttle = {"bursts": {"sts": {"kind": "throttle"}}}

        async def caller_identity() -> str:
            key, secret, _ = BASE
            async with session.create_client(
                "sts",
                region_name="us-east-1",
                endpoint_url=url,
                aws_access_key_id=key,
                aws_secret_access_key=secret,
                config=AioConfig(retries={"mode": "standard", "total_max_attempts": 1}),
            ) as sts:
                return str((await sts.get_caller_identity())["Account"])

        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Sim-Token": "wrong"}, {"X-Sim-Token": token[:-1]}):
                async with http.post(f"{url}/_sim/faults", json=throttle, headers=headers) as r:
                    assert r.status == 403
                async with http.get(f"{url}/_sim/stats", headers=headers) as r:
                    assert r.status == 403
            assert len(await caller_identity()) == 12
            good = {"X-Sim-Token": token}
            async with http.get(f"{url}/_sim/stats", headers=good) as r:
                assert r.status == 200
            async with http.post(f"{url}/_sim/faults", json=throttle, headers=good) as r:
                assert r.status == 200
            with pytest.raises(ClientError) as throttled:
                await caller_identity()
            assert throttled.value.response["Error"]["Code"] == "Throttling"
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "throttle",
            {
                "sts": ("Throttling", 400),
                "ec2": ("RequestLimitExceeded", 503),
                "organizations": ("TooManyRequestsException", 400),
                "appflow": ("ThrottlingException", 429),
            },
        ),
        (
            "server_error",
            {
                "sts": ("InternalFailure", 500),
                "ec2": ("InternalError", 500),
                "organizations": ("ServiceException", 400),
                "appflow": ("InternalServerException", 500),
            },
        ),
        (
            "expired_token",
            {
                "sts": ("ExpiredToken", 403),
                "ec2": ("RequestExpired", 400),
                "organizations": ("ExpiredTokenException", 400),
                "appflow": ("ExpiredTokenException", 403),
            },
        ),
    ],
)
async def test_bursts_answer_in_each_services_own_words(
    aws: Aws, sim: Simulator, kind: str, expected: dict[str, tuple[str, int]]
) -> None:
    """A burst of faults is answered with each service's real code and status, as botocore
    reads them, for its number of requests and no more."""
    calls = {
        "sts": lambda c: c.get_caller_identity(),
        "ec2": lambda c: c.describe_regions(),
        "organizations": lambda c: c.list_accounts(),
        "appflow": lambda c: c.describe_connector_profiles(),
    }
    for service, (code, status) in expected.items():
        sim.faults.bursts[service] = Burst(kind, requests=1)
        async with aws.client(service) as client:
            with pytest.raises(ClientError) as info:
                await calls[service](client)
            assert (
                error_code(info),
                info.value.response["ResponseMetadata"]["HTTPStatusCode"],
            ) == (
                code,
                status,
            ), service
            await calls[service](client)  # the burst is over


async def test_retry_after_is_sent_when_asked(aws: Aws, sim: Simulator) -> None:
    """A burst with `retry_after` sends a Retry-After header botocore exposes."""
    sim.faults.bursts["appflow"] = Burst("throttle", requests=1, retry_after=3)
    async with aws.client("appflow") as appflow:
        with pytest.raises(ClientError) as info:
            await appflow.describe_connector_profiles()
    assert info.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "3"


async def test_time_bursts_follow_the_simulator_clock(session: Any, org: Organization) -> None:
    """A burst of `seconds` ends when the simulator's clock says so."""
    clock = FakeClock()
    with Simulator(org, clock=clock) as sim:
        sim.faults.bursts["organizations:ListAccounts"] = Burst("throttle", seconds=30)
        async with Aws(session, sim).client("organizations") as organizations:
            with pytest.raises(ClientError):
                await organizations.list_accounts()
            clock.now += 29
            with pytest.raises(ClientError):
                await organizations.list_accounts()
            clock.now += 1
            await organizations.list_accounts()


def test_real_aws_knobs_through_the_control_endpoint() -> None:
    """`/_sim/faults` sets bursts, quotas and the hostile-response knobs."""
    faults = Faults()
    apply_faults(
        faults,
        {
            "bursts": {"organizations:ListAccounts": {"kind": "throttle", "seconds": 30}},
            "assume_role_quota": {"111122223333": 1},
            "empty_organization_pages": 2,
            "endless_organization_pages": True,
            "chunked_bodies": True,
            "omit_empty_list_scopes": [["111122223333", "us-east-1"]],
            "overfull_page_scopes": [["111122223333", "us-east-1"]],
            "deep_json_scopes": [["111122223333", "us-east-1", 500]],
            "huge_body_scopes": [["111122223333", "us-east-1", 1000]],
        },
    )
    assert faults.bursts["organizations:ListAccounts"].seconds == 30
    assert faults.assume_role_quota == {"111122223333": 1}
    assert (faults.empty_organization_pages, faults.endless_organization_pages) == (2, True)
    assert faults.chunked_bodies
    assert faults.omit_empty_list_scopes == {("111122223333", "us-east-1")}
    assert faults.overfull_page_scopes == {("111122223333", "us-east-1")}
    assert faults.deep_json_scopes == {("111122223333", "us-east-1"): 500}
    assert faults.huge_body_scopes == {("111122223333", "us-east-1"): 1000}


# --- flows ----------------------------------------------------------------------------------------


def largest_flow_scope(org: Organization) -> ScopeKey:
    """The active scope with the most flows."""
    candidates = [key for key in org.flow_scopes() if org.accounts[key[0]].state == "ACTIVE"]
    return max(candidates, key=lambda key: len(org.flows(*key)))


def capture_flow_bodies(appflow: Any, operation: str) -> list[dict[str, Any]]:
    """Collect the raw JSON bodies of the client's answers to `operation`."""
    bodies: list[dict[str, Any]] = []

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        if response_dict["status_code"] == 200:
            bodies.append(json.loads(response_dict["body"]))

    appflow.meta.events.register(f"before-parse.appflow.{operation}", keep)
    return bodies


def test_generated_flows_name_existing_and_missing_profiles(org: Organization) -> None:
    """Generated flows use profiles of their own scope, S3, and some profiles that do not
    exist there; the profiles of a seed do not depend on the flows."""
    named: list[bool] = []
    for (account, region), flow in org.all_flows():
        live = {p["connectorProfileName"] for p in org.profiles(account, region)}
        ends = [flow["sourceFlowConfig"], *flow["destinationFlowConfigList"]]
        named += [e["connectorProfileName"] in live for e in ends if "connectorProfileName" in e]
    assert True in named
    assert False in named
    without = generate_organization(
        2024,
        accounts=8,
        empty_fraction=0.7,
        inactive_accounts=2,
        short_page_fraction=0.3,
        flows_per_profile=0.0,
    )
    assert without.all_profiles() == org.all_profiles()
    assert without.all_flows() == []


async def test_list_flows_pages_definitions(aws: Aws, sim: Simulator, org: Organization) -> None:
    """ListFlows pages the scope's flows by `maxResults` and `nextToken`, each as a
    FlowDefinition (no source or destination configuration), as botocore parses them."""
    account, region = largest_flow_scope(org)
    expected = org.flows(account, region)
    assert len(expected) > 2
    async with aws.client("appflow", region, await aws.assume(account)) as appflow:
        bodies = capture_flow_bodies(appflow, "ListFlows")
        token: str | None = None
        parsed: list[dict[str, Any]] = []
        while True:
            page = await appflow.list_flows(maxResults=2, **({"nextToken": token} if token else {}))
            parsed += page["flows"]
            token = page.get("nextToken")
            if not token:
                break
    listed = [f for body in bodies for f in body["flows"]]
    assert [f["flowArn"] for f in listed] == [f["flowArn"] for f in expected]
    assert all(len(body["flows"]) <= 2 for body in bodies)
    assert "sourceFlowConfig" not in listed[0]
    assert listed[0]["sourceConnectorType"] == expected[0]["sourceFlowConfig"]["connectorType"]
    assert [f["flowName"] for f in parsed] == [f["flowName"] for f in expected]
    assert sim.stats.scope_count((account, region), "ListFlows") == len(bodies)


async def test_describe_flow_answers_the_flow(aws: Aws, org: Organization) -> None:
    """DescribeFlow answers one flow with its configurations, without the fields only its
    definition has; an unknown name is ResourceNotFoundException (404)."""
    account, region = largest_flow_scope(org)
    flow = org.flows(account, region)[0]
    async with aws.client("appflow", region, await aws.assume(account)) as appflow:
        bodies = capture_flow_bodies(appflow, "DescribeFlow")
        await appflow.describe_flow(flowName=flow["flowName"])
        with pytest.raises(ClientError) as info:
            await appflow.describe_flow(flowName="no-such-flow")
    assert bodies[0]["sourceFlowConfig"] == flow["sourceFlowConfig"]
    assert bodies[0]["destinationFlowConfigList"] == flow["destinationFlowConfigList"]
    assert "sourceConnectorType" not in bodies[0]
    assert "triggerType" not in bodies[0]
    assert error_code(info) == "ResourceNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


async def test_flow_operations_validate_and_fail_as_appflow_does(
    aws: Aws, sim: Simulator, org: Organization
) -> None:
    """ListFlows refuses `maxResults` 101 and DescribeFlow a malformed name (400
    ValidationException); throttling is 429 and a server fault 500, as for every AppFlow
    call; a flow that vanished is 404."""
    account, region = largest_flow_scope(org)
    flow = org.flows(account, region)[0]
    sim.faults.vanishing_flows.add(flow["flowArn"])
    async with aws.client("appflow", region, await aws.assume(account)) as appflow:
        answers: list[tuple[str, int]] = []
        calls = [
            appflow.list_flows(maxResults=101),
            appflow.describe_flow(flowName="-bad name"),
            appflow.describe_flow(flowName=flow["flowName"]),
        ]
        for call in calls:
            with pytest.raises(ClientError) as info:
                await call
            answers.append(
                (error_code(info), info.value.response["ResponseMetadata"]["HTTPStatusCode"])
            )
        for kind in ("throttle", "server_error"):
            sim.faults.bursts["appflow:ListFlows"] = Burst(kind, requests=1)
            with pytest.raises(ClientError) as info:
                await appflow.list_flows()
            answers.append(
                (error_code(info), info.value.response["ResponseMetadata"]["HTTPStatusCode"])
            )
    assert answers == [
        ("ValidationException", 400),
        ("ValidationException", 400),
        ("ResourceNotFoundException", 404),
        ("ThrottlingException", 429),
        ("InternalServerException", 500),
    ]


def test_mutate_changes_flows_and_their_runs(org: Organization) -> None:
    """`mutate` creates, updates and deletes flows, and makes some run: a run changes only
    the flow's last run, an update its `lastUpdatedAt`."""
    before = {f["flowArn"]: f for _, f in org.all_flows()}
    summary = mutate(
        org,
        random.Random(3),
        flow_creates=2,
        flow_updates=2,
        flow_deletes=1,
        flow_runs=2,
        now=1_900_000_000.0,
    )
    after = {f["flowArn"]: f for _, f in org.all_flows()}
    assert (len(summary.flows_created), len(summary.flows_deleted)) == (2, 1)
    assert set(summary.flows_created) == set(after) - set(before)
    assert set(summary.flows_deleted) == set(before) - set(after)
    for arn in summary.flows_updated:
        assert after[arn]["lastUpdatedAt"] == 1_900_000_000.0
    for arn in summary.flows_ran:
        changed = {k for k in after[arn] if after[arn][k] != before[arn].get(k)}
        assert changed == {"lastRunExecutionDetails"}
    assert summary.created == summary.updated == summary.deleted == []


def test_flow_knobs_through_the_control_endpoint() -> None:
    """`/_sim/faults` sets which listings the paging faults hit, and the flows that vanish."""
    faults = Faults()
    assert faults.paging_fault_operations == {"DescribeConnectorProfiles"}
    apply_faults(
        faults,
        {"paging_fault_operations": ["ListFlows"], "vanishing_flows": ["arn:aws:appflow:f"]},
    )
    assert faults.paging_fault_operations == {"ListFlows"}
    assert faults.vanishing_flows == {"arn:aws:appflow:f"}
