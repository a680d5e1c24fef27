"""A ceiling on each account's request rate, whatever `--concurrency` is.

AWS throttles each account's API calls; a fleet-wide concurrency of hundreds must not turn
into hundreds of calls per second against one account. Every signed request made acting as
an account takes a token from that account's bucket (`rate` per second, bursts of `rate`).
The clock and sleep are arguments, so tests drive it without waiting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

# Requests per second per account: far above what listing needs (a scope is one request,
# rarely two), and below the rates AWS's read APIs allow an account.
DEFAULT_ACCOUNT_RATE = 20.0


class AccountPacer:
    """A token bucket per account."""

    def __init__(
        self,
        rate: float = DEFAULT_ACCOUNT_RATE,
        clock: Callable[[], float] = anyio.current_time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, tuple[float, float]] = {}
        """account -> (tokens, when they were counted)."""

    async def wait(self, account_id: str) -> None:
        """Return once `account_id` may send another request."""
        while True:
            now = self._clock()
            tokens, counted = self._buckets.get(account_id, (self.rate, now))
            tokens = min(self.rate, tokens + (now - counted) * self.rate)
            if tokens >= 1.0:
                self._buckets[account_id] = (tokens - 1.0, now)
                return
            self._buckets[account_id] = (tokens, now)
            await self._sleep((1.0 - tokens) / self.rate)
