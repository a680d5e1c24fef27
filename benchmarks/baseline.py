"""The script a careful engineer writes to inventory AppFlow connector profiles with boto3.

One boto3 Session for the whole run (service models load once), 32 threads with one task per
account: assume the reader role once, then for each AppFlow region build a client from the
shared session with the role's credentials and follow `nextToken` page by page. With
`--resources profiles,flows` it lists flows too, in the same client: every page of
`ListFlows`, then `DescribeFlow` for each flow listed (the definition `ListFlows` gives
lacks the tasks and the connector properties). The main thread writes rows to SQLite with
`executemany`. Endpoints and base credentials come from the standard AWS variables
(`AWS_ENDPOINT_URL_<SERVICE>` included).

    python -m benchmarks.baseline --database inventory.db
    python -m benchmarks.baseline --database inventory.db --resources profiles,flows
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

THREADS = 32
ROLE_NAME = "AppFlowInventoryReader"
TABLE = "profiles"
CONFIG = Config(max_pool_connections=THREADS)

SCHEMA = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    arn TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT,
    connector_type TEXT,
    properties TEXT,
    created_at TEXT
)"""
INSERT = f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)"
FLOWS_TABLE = "flows"
FLOWS_SCHEMA = f"""CREATE TABLE IF NOT EXISTS {FLOWS_TABLE} (
    arn TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT,
    status TEXT,
    description TEXT
)"""
INSERT_FLOW = f"INSERT OR REPLACE INTO {FLOWS_TABLE} VALUES (?, ?, ?, ?, ?, ?)"
RESOURCES = ("profiles", "flows")

Row = tuple[str, str, str, str | None, str | None, str, str | None]
FlowRow = tuple[str, str, str, str | None, str | None, str]


@dataclass
class Listed:
    """What one account's task listed, and one message per region that failed."""

    profiles: list[Row] = field(default_factory=list)
    flows: list[FlowRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Clients:
    """Clients built from one shared Session; boto3 Sessions are not thread-safe, so
    building a client takes a lock (using one does not)."""

    def __init__(self, session: boto3.Session) -> None:
        self._session = session
        self._lock = threading.Lock()

    def client(self, service: str, region: str | None = None, **credentials: Any) -> Any:
        with self._lock:
            return self._session.client(service, region_name=region, config=CONFIG, **credentials)


def active_accounts(clients: Clients) -> list[str]:
    """Ids of the organization's ACTIVE accounts, every page of ListAccounts."""
    paginator = clients.client("organizations").get_paginator("list_accounts")
    ids: list[str] = []
    for page in paginator.paginate():
        ids += [str(a["Id"]) for a in page["Accounts"] if a.get("State") == "ACTIVE"]
    return ids


def role_credentials(sts: Any, account_id: str, role_name: str) -> dict[str, str]:
    """The account role's credentials, as keyword arguments for a client."""
    response = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}",
        RoleSessionName="appflow-inventory-script",
    )
    credentials = response["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def to_row(profile: dict[str, Any], account_id: str, region: str) -> Row:
    """One table row of a profile as boto3 returns it."""
    created = profile.get("createdAt")
    return (
        str(profile["connectorProfileArn"]),
        account_id,
        region,
        profile.get("connectorProfileName"),
        profile.get("connectorType"),
        json.dumps(profile.get("connectorProfileProperties", {}), default=str, sort_keys=True),
        created.isoformat() if created is not None else None,
    )


def list_region(client: Any, account_id: str, region: str) -> list[Row]:
    """Every profile of one region of the account, following `nextToken`."""
    rows: list[Row] = []
    params: dict[str, Any] = {"maxResults": 100}
    while True:
        page = client.describe_connector_profiles(**params)
        rows += [to_row(p, account_id, region) for p in page.get("connectorProfileDetails", [])]
        token = page.get("nextToken")
        if not token:
            return rows
        params["nextToken"] = token


def flow_row(flow: dict[str, Any], account_id: str, region: str) -> FlowRow:
    """One table row of a flow as `DescribeFlow` returns it."""
    return (
        str(flow["flowArn"]),
        account_id,
        region,
        flow.get("flowName"),
        flow.get("flowStatus"),
        json.dumps(flow, default=str, sort_keys=True),
    )


def list_flows(client: Any, account_id: str, region: str) -> list[FlowRow]:
    """Every flow of one region: each page of ListFlows, then DescribeFlow for each flow."""
    rows: list[FlowRow] = []
    params: dict[str, Any] = {"maxResults": 100}
    while True:
        page = client.list_flows(**params)
        for summary in page.get("flows", []):
            flow = client.describe_flow(flowName=summary["flowName"])
            flow.pop("ResponseMetadata", None)
            rows.append(flow_row(flow, account_id, region))
        token = page.get("nextToken")
        if not token:
            return rows
        params["nextToken"] = token


@dataclass(frozen=True)
class Plan:
    """What each account's task lists: these regions, as this role, flows or not."""

    regions: Sequence[str]
    role_name: str
    flows: bool = False


def collect_account(clients: Clients, sts: Any, plan: Plan, account_id: str) -> Listed:
    """Rows of every region of one account, and one message per region that failed."""
    credentials = role_credentials(sts, account_id, plan.role_name)
    listed = Listed()
    for region in plan.regions:
        try:
            client = clients.client("appflow", region, **credentials)
            profiles = list_region(client, account_id, region)
            found = list_flows(client, account_id, region) if plan.flows else []
        except (ClientError, BotoCoreError) as exc:
            listed.errors.append(f"{account_id} {region}: {exc}")
            continue
        listed.profiles += profiles
        listed.flows += found
    return listed


def outcome(future: Future[Listed], account_id: str) -> Listed:
    try:
        return future.result()
    except (ClientError, BotoCoreError) as exc:
        return Listed(errors=[f"{account_id}: {exc}"])


def collect(database: str, role_name: str, resources: Sequence[str] = ("profiles",)) -> int:
    """List every account into `database`; returns the number of failures."""
    session = boto3.Session()
    clients = Clients(session)
    regions = session.get_available_regions("appflow")
    sts = clients.client("sts")
    accounts = active_accounts(clients)
    plan = Plan(regions, role_name, flows="flows" in resources)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        tasks = {pool.submit(collect_account, clients, sts, plan, a): a for a in accounts}
        return store(database, tasks)


def store(database: str, futures: dict[Future[Listed], str]) -> int:
    """Each account's rows into `database` as its task ends; returns the number of failures."""
    db = sqlite3.connect(database)
    db.execute(SCHEMA)
    db.execute(FLOWS_SCHEMA)
    stored = flows = failures = 0
    for future in as_completed(futures):
        listed = outcome(future, futures[future])
        db.executemany(INSERT, listed.profiles)
        db.executemany(INSERT_FLOW, listed.flows)
        stored += len(listed.profiles)
        flows += len(listed.flows)
        failures += len(listed.errors)
        for error in listed.errors:
            print(f"failed {error}", file=sys.stderr)
    db.commit()
    db.close()
    print(f"{len(futures)} accounts, {stored} profiles, {flows} flows, {failures} failures")
    return failures


def _resources(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if name not in RESOURCES]
    if unknown or "profiles" not in names:
        raise argparse.ArgumentTypeError(f"choose profiles, or profiles,flows (not {text!r})")
    return names


def main(
    argv: Sequence[str] | None = None,
    prog: str = "python -m benchmarks.baseline",
    script: Callable[[str, str, Sequence[str]], int] = collect,
) -> int:
    """Entry point: exit 0 if everything was listed, 1 if anything failed."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--database", required=True, help="SQLite file to write")
    parser.add_argument("--role-name", default=ROLE_NAME, help="role to assume per account")
    parser.add_argument(
        "--resources",
        type=_resources,
        default=("profiles",),
        help="what to list: profiles (default) or profiles,flows",
    )
    args = parser.parse_args(argv)
    return 1 if script(args.database, args.role_name, args.resources) else 0


if __name__ == "__main__":
    sys.exit(main())
