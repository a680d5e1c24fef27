"""A naive script: like `baseline`, but with a new boto3 Session for every account.

Each Session loads the service models again, which costs far more CPU than the requests
themselves. Kept to show that cost; the benchmark compares against `baseline`, the script a
careful engineer writes. Everything but the per-account Session is `baseline`'s.

    python -m benchmarks.baseline_session_per_account --database inventory.db
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .baseline import (
    CONFIG,
    THREADS,
    Clients,
    Listed,
    active_accounts,
    list_region,
    main,
    role_credentials,
    store,
)


def collect_account(sts: Any, regions: Sequence[str], account_id: str, role_name: str) -> Listed:
    """Rows of every region of one account, from a Session of its own."""
    session = boto3.Session(**role_credentials(sts, account_id, role_name))
    listed = Listed()
    for region in regions:
        try:
            client = session.client("appflow", region_name=region, config=CONFIG)
            listed.profiles += list_region(client, account_id, region)
        except (ClientError, BotoCoreError) as exc:
            listed.errors.append(f"{account_id} {region}: {exc}")
    return listed


def collect(database: str, role_name: str, resources: Sequence[str] = ("profiles",)) -> int:
    """List every account's profiles into `database` (profiles only, whatever `resources`
    says); returns the number of failures."""
    if tuple(resources) != ("profiles",):
        raise SystemExit("this script lists profiles only: leave --resources out")
    base = boto3.Session()
    regions = base.get_available_regions("appflow")
    sts = base.client("sts", config=CONFIG)
    accounts = active_accounts(Clients(base))
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        tasks = {pool.submit(collect_account, sts, regions, a, role_name): a for a in accounts}
        return store(database, tasks)


if __name__ == "__main__":
    sys.exit(main(prog="python -m benchmarks.baseline_session_per_account", script=collect))
