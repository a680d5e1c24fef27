"""Which opt-in regions an account has enabled, from `ec2:DescribeRegions`, once per run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import anyio

from .._errors import AwsError
from .credentials import acting_as
from .retry import Attempts, RetryPolicy, call_with_retries


class RegionStatus:
    """Region name -> `OptInStatus` per account, looked up at most once per account."""

    def __init__(
        self, ec2_client: Callable[[], Awaitable[Any]], retry: RetryPolicy, counter: Attempts
    ) -> None:
        self._ec2_client = ec2_client
        self._retry = retry
        self._counter = counter
        self._found: dict[str, dict[str, str] | AwsError] = {}
        self._locks: dict[str, anyio.Lock] = {}

    async def opt_in_status(self, account_id: str, credentials: Any) -> dict[str, str]:
        """The account's regions and their opt-in status.

        Raises the look-up's `AwsError` (remembered too, so it is not retried per region).
        """
        lock = self._locks.setdefault(account_id, anyio.Lock())
        async with lock:
            if account_id not in self._found:
                client = await self._ec2_client()
                try:
                    with acting_as(credentials):
                        response = await call_with_retries(
                            partial(client.describe_regions, AllRegions=True),
                            self._retry,
                            self._counter,
                        )
                    self._found[account_id] = {
                        r["RegionName"]: r.get("OptInStatus", "opt-in-not-required")
                        for r in response.get("Regions", [])
                    }
                except AwsError as error:
                    self._found[account_id] = error
        found = self._found[account_id]
        if isinstance(found, AwsError):
            raise found
        return found
