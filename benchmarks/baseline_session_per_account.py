"""A naive script: like `baseline`, but with a new boto3 Session for every account.

Each Session loads the service models again, which costs far more CPU than the requests
themselves. Kept to show that cost; the benchmark compares against `baseline`, the script a
careful engineer writes.

    python -m benchmarks.baseline_session_per_account --database inventory.db
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

THREADS = 32
ROLE_NAME = "AppFlowInventoryReader"
TABLE = "profiles"
REGIONS = (
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


def active_accounts(session: boto3.Session) -> list[str]:
    """Ids of the organization's ACTIVE accounts, every page of ListAccounts."""
    client = session.client("organizations")
    ids: list[str] = []
    for page in client.get_paginator("list_accounts").paginate():
        ids += [str(a["Id"]) for a in page["Accounts"] if a.get("State") == "ACTIVE"]
    return ids


def account_session(sts: Any, account_id: str, role_name: str) -> boto3.Session:
    """A session on the credentials of the account's role."""
    response = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}",
        RoleSessionName="appflow-inventory-script",
    )
    credentials = response["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


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


def list_region(session: boto3.Session, account_id: str, region: str) -> list[Row]:
    """Every profile of one region of the account, following `nextToken`."""
    client = session.client("appflow", region_name=region)
    rows: list[Row] = []
    params: dict[str, Any] = {"maxResults": 100}
    while True:
        page = client.describe_connector_profiles(**params)
        rows += [to_row(p, account_id, region) for p in page.get("connectorProfileDetails", [])]
        token = page.get("nextToken")
        if not token:
            return rows
        params["nextToken"] = token


def collect_account(sts: Any, account_id: str, role_name: str) -> tuple[list[Row], list[str]]:
    """Rows of every region of one account, and one message per region that failed."""
    session = account_session(sts, account_id, role_name)
    rows: list[Row] = []
    errors: list[str] = []
    for region in REGIONS:
        try:
            rows += list_region(session, account_id, region)
        except (ClientError, BotoCoreError) as exc:
            errors.append(f"{account_id} {region}: {exc}")
    return rows, errors


def _outcome(
    future: Future[tuple[list[Row], list[str]]], account_id: str
) -> tuple[list[Row], list[str]]:
    try:
        return future.result()
    except (ClientError, BotoCoreError) as exc:
        return [], [f"{account_id}: {exc}"]


def collect(database: str, role_name: str) -> int:
    """List every account into `database`; returns the number of failures."""
    base = boto3.Session()
    sts = base.client("sts", config=Config(max_pool_connections=THREADS))
    accounts = active_accounts(base)
    db = sqlite3.connect(database)
    db.execute(SCHEMA)
    stored = failures = 0
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = {pool.submit(collect_account, sts, a, role_name): a for a in accounts}
        for future in as_completed(futures):
            rows, errors = _outcome(future, futures[future])
            db.executemany(INSERT, rows)
            stored += len(rows)
            failures += len(errors)
            for error in errors:
                print(f"failed {error}", file=sys.stderr)
    db.commit()
    db.close()
    print(f"{len(accounts)} accounts, {stored} profiles, {failures} failures")
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 0 if everything was listed, 1 if anything failed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.baseline_session_per_account")
    parser.add_argument("--database", required=True, help="SQLite file to write")
    parser.add_argument("--role-name", default=ROLE_NAME, help="role to assume per account")
    args = parser.parse_args(argv)
    return 1 if collect(args.database, args.role_name) else 0


if __name__ == "__main__":
    sys.exit(main())
