"""The floor: the least CPU any Python program pays to list the same connector profiles.

What a request cannot do without, and nothing else: aiohttp on one event loop, botocore's own
SigV4 signer (`botocore.auth.SigV4Auth`), `json.loads` of each page, the `nextToken` loop.
The same requests as the baseline: the organization's accounts (`ListAccounts`, every page),
the reader role assumed once per account (`AssumeRole`, its XML answer parsed for the three
credentials), then every page of `DescribeConnectorProfiles` in each of the 16 AppFlow
regions botocore's endpoint data names, signed with that account's credentials. Up to 100
scopes at once, as `collector run` by default.

What it leaves out, on purpose: no retries (a failed request ends the run, exit 1), no pacing,
no checks on what it sends or receives beyond the HTTP status, no client objects, no
botocore request path (validation, serialization, endpoint rules, event hooks), and nothing
stored: it counts the profiles and prints the count.

    python -m benchmarks.floor
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.loaders import Loader
from botocore.regions import EndpointResolver

ROLE_NAME = "AppFlowInventoryReader"
CONCURRENCY = 100
PAGE_SIZE = 100
HOME_REGION = "us-east-1"
_STS_NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"


class FloorError(Exception):
    """A request failed: the floor does not retry."""


def appflow_regions() -> list[str]:
    """The AppFlow regions of the `aws` partition, as `Session.get_available_regions` lists
    them (the baseline's list)."""
    resolver = EndpointResolver(Loader().load_data("endpoints"))
    return list(resolver.get_available_endpoints("appflow"))


@dataclass(frozen=True, slots=True)
class Call:
    """One operation on the wire: the service signing it, its path and its headers."""

    service: str
    path: str
    headers: dict[str, str]


LIST_ACCOUNTS = Call(
    "organizations",
    "/",
    {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSOrganizationsV20161128.ListAccounts",
    },
)
ASSUME_ROLE = Call("sts", "/", {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
DESCRIBE_PROFILES = Call(
    "appflow", "/describe-connector-profiles", {"Content-Type": "application/json"}
)


class Wire:
    """Signed POSTs over one aiohttp session."""

    def __init__(self, http: aiohttp.ClientSession, endpoints: dict[str, str]) -> None:
        self._http = http
        self._endpoints = endpoints

    async def post(self, call: Call, region: str, credentials: Credentials, body: bytes) -> bytes:
        url = self._endpoints[call.service] + call.path
        request = AWSRequest("POST", url, data=body, headers=call.headers)
        SigV4Auth(credentials, call.service, region).add_auth(request)
        async with self._http.post(url, data=body, headers=dict(request.headers)) as response:
            payload = await response.read()
            if response.status != 200:
                raise FloorError(f"{call.service} {call.path} {response.status}: {payload[:200]!r}")
            return payload


async def active_accounts(wire: Wire, base: Credentials) -> list[str]:
    """Ids of the organization's ACTIVE accounts, every page of ListAccounts."""
    ids: list[str] = []
    params: dict[str, str] = {}
    while True:
        body = json.dumps(params).encode()
        page = json.loads(await wire.post(LIST_ACCOUNTS, HOME_REGION, base, body))
        ids += [a["Id"] for a in page["Accounts"] if a.get("State") == "ACTIVE"]
        token = page.get("NextToken")
        if not token:
            return ids
        params["NextToken"] = token


async def assume_role(wire: Wire, base: Credentials, account_id: str) -> Credentials:
    """The reader role's credentials in `account_id`."""
    form = {
        "Action": "AssumeRole",
        "Version": "2011-06-15",
        "RoleArn": f"arn:aws:iam::{account_id}:role/{ROLE_NAME}",
        "RoleSessionName": "appflow-inventory-floor",
    }
    answer = await wire.post(ASSUME_ROLE, HOME_REGION, base, urlencode(form).encode())
    found = ET.fromstring(answer).find(f".//{_STS_NS}Credentials")
    if found is None:
        raise FloorError(f"AssumeRole in {account_id}: no credentials in the answer")
    fields = {child.tag.removeprefix(_STS_NS): child.text or "" for child in found}
    return Credentials(fields["AccessKeyId"], fields["SecretAccessKey"], fields["SessionToken"])


async def list_scope(wire: Wire, credentials: Credentials, region: str) -> int:
    """Every page of DescribeConnectorProfiles in one region; the number of profiles."""
    params: dict[str, object] = {"maxResults": PAGE_SIZE}
    count = 0
    while True:
        body = json.dumps(params).encode()
        page = json.loads(await wire.post(DESCRIBE_PROFILES, region, credentials, body))
        count += len(page.get("connectorProfileDetails", ()))
        token = page.get("nextToken")
        if not token:
            return count
        params["nextToken"] = token


async def list_account(
    wire: Wire, base: Credentials, account_id: str, regions: Sequence[str], slots: asyncio.Semaphore
) -> int:
    """Assume the role once, then list each region (one slot per scope)."""
    async with slots:
        credentials = await assume_role(wire, base, account_id)

    async def scope(region: str) -> int:
        async with slots:
            return await list_scope(wire, credentials, region)

    return sum(await asyncio.gather(*(scope(region) for region in regions)))


def endpoints() -> dict[str, str]:
    """Each service's endpoint, from the standard `AWS_ENDPOINT_URL_<SERVICE>` variables."""
    return {
        service: os.environ[f"AWS_ENDPOINT_URL_{service.upper()}"].rstrip("/")
        for service in ("sts", "organizations", "appflow")
    }


async def collect() -> tuple[int, int]:
    """List every account's profiles; the number of accounts and of profiles."""
    base = Credentials(
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
        os.environ.get("AWS_SESSION_TOKEN"),
    )
    regions = appflow_regions()
    slots = asyncio.Semaphore(CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:
        wire = Wire(http, endpoints())
        accounts = await active_accounts(wire, base)
        counts = await asyncio.gather(
            *(list_account(wire, base, a, regions, slots) for a in accounts)
        )
    return len(accounts), sum(counts)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 0 if every request succeeded, 1 at the first that failed."""
    argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__).parse_args(argv)
    try:
        accounts, profiles = asyncio.run(collect())
    except (FloorError, aiohttp.ClientError) as error:
        print(f"failed: {error}", file=sys.stderr)
        return 1
    print(f"{accounts} accounts, {profiles} profiles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
