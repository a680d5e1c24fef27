"""Whether an account has enabled an opt-in region, from `ec2:DescribeRegions`: optional help.

The collector decides opt-in regions by AppFlow's own answer (see `_service/regions.py`);
EC2 is asked only when that answer is ambiguous. EC2 may be unreachable (a VPC with only STS
and AppFlow endpoints, a proxy that drops it), so each look-up is a single attempt with a
short timeout, and once EC2 has proved unreachable it is not asked again in the run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import anyio

from .._errors import AwsError, ErrorKind
from .credentials import acting_as
from .retry import Attempts, RetryPolicy, call_with_retries

log = logging.getLogger("collector")

# Errors that say EC2 cannot be reached at all, rather than refusing this account.
_UNREACHABLE = frozenset({ErrorKind.TIMEOUT, ErrorKind.CONNECTION_ERROR})


class RegionStatus:
    """Region name -> `OptInStatus` per account, looked up at most once per account."""

    def __init__(
        self, ec2_client: Callable[[], Awaitable[Any]], retry: RetryPolicy, counter: Attempts
    ) -> None:
        self._ec2_client = ec2_client
        self._retry = retry.single_attempt()
        self._counter = counter
        self._found: dict[str, dict[str, str] | None] = {}
        # One look-up at a time: if EC2 is silent, only the first caller waits for it.
        self._lock = anyio.Lock()
        self.unreachable = False
        """Set once EC2 timed out or refused: the run's circuit breaker."""

    async def opt_in_status(self, account_id: str, credentials: Any) -> dict[str, str] | None:
        """The account's regions and their opt-in status; None if EC2 cannot tell."""
        async with self._lock:
            if account_id not in self._found:
                self._found[account_id] = await self._look_up(account_id, credentials)
        return self._found[account_id]

    async def status_of(self, account_id: str, region: str, credentials: Any) -> str | None:
        """`OptInStatus` of `region` for the account; None if EC2 cannot tell."""
        found = await self.opt_in_status(account_id, credentials)
        return None if found is None else found.get(region)

    async def _look_up(self, account_id: str, credentials: Any) -> dict[str, str] | None:
        if self.unreachable:
            return None
        try:
            client = await self._ec2_client()
            with acting_as(credentials):
                response = await call_with_retries(
                    partial(client.describe_regions, AllRegions=True), self._retry, self._counter
                )
        except AwsError as error:
            if error.kind in _UNREACHABLE:
                self.unreachable = True
                log.warning("ec2:DescribeRegions cannot be reached (%s); not asked again", error)
            else:
                log.debug("ec2:DescribeRegions refused for %s: %s", account_id, error)
            return None
        return {
            str(r["RegionName"]): str(r.get("OptInStatus", "opt-in-not-required"))
            for r in response.get("Regions", [])
        }
