"""The script a careful engineer writes to inventory AppFlow connector profiles with boto3.

One boto3 Session for the whole run (service models load once), 32 threads with one task per
account: assume the reader role once, then for each AppFlow region build a client from the
shared session with the role's credentials and follow `nextToken` page by page. The main
thread writes rows to SQLite with `executemany`. Endpoints and base credentials come from the
standard AWS variables (`AWS_ENDPOINT_URL_<SERVICE>` included).

    python -m benchmarks.baseline --database inventory.db
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
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

Row = tuple[str, str, str, str | None, str | None, str, str | None]


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


def collect_account(
    clients: Clients, sts: Any, regions: Sequence[str], account_id: str, role_name: str
) -> tuple[list[Row], list[str]]:
    """Rows of every region of one account, and one message per region that failed."""
    credentials = role_credentials(sts, account_id, role_name)
    rows: list[Row] = []
    errors: list[str] = []
    for region in regions:
        try:
            client = clients.client("appflow", region, **credentials)
            rows += list_region(client, account_id, region)
        except (ClientError, BotoCoreError) as exc:
            errors.append(f"{account_id} {region}: {exc}")
    return rows, errors


def outcome(
    future: Future[tuple[list[Row], list[str]]], account_id: str
) -> tuple[list[Row], list[str]]:
    try:
        return future.result()
    except (ClientError, BotoCoreError) as exc:
        return [], [f"{account_id}: {exc}"]


def collect(database: str, role_name: str) -> int:
    """List every account into `database`; returns the number of failures."""
    session = boto3.Session()
    clients = Clients(session)
    regions = session.get_available_regions("appflow")
    sts = clients.client("sts")
    accounts = active_accounts(clients)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        tasks = {
            pool.submit(collect_account, clients, sts, regions, a, role_name): a for a in accounts
        }
        return store(database, tasks)


def store(database: str, futures: dict[Future[tuple[list[Row], list[str]]], str]) -> int:
    """Each account's rows into `database` as its task ends; returns the number of failures."""
    db = sqlite3.connect(database)
    db.execute(SCHEMA)
    stored = failures = 0
    for future in as_completed(futures):
        rows, errors = outcome(future, futures[future])
        db.executemany(INSERT, rows)
        stored += len(rows)
        failures += len(errors)
        for error in errors:
            print(f"failed {error}", file=sys.stderr)
    db.commit()
    db.close()
    print(f"{len(futures)} accounts, {stored} profiles, {failures} failures")
    return failures


def main(
    argv: Sequence[str] | None = None,
    prog: str = "python -m benchmarks.baseline",
    script: Callable[[str, str], int] = collect,
) -> int:
    """Entry point: exit 0 if everything was listed, 1 if anything failed."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--database", required=True, help="SQLite file to write")
    parser.add_argument("--role-name", default=ROLE_NAME, help="role to assume per account")
    args = parser.parse_args(argv)
    return 1 if script(args.database, args.role_name) else 0


if __name__ == "__main__":
    sys.exit(main())
