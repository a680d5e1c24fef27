"""A ceiling on each account's request rate, whatever `--concurrency` is.

AWS throttles each account's API calls; a fleet-wide concurrency of hundreds must not turn
into hundreds of calls per second against one account. Every signed request made acting as
an account takes a token from that account's bucket (`rate` per second, bursts of `rate`).
The clock and sleep are arguments, so tests drive it without waiting.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import anyio

# Requests per second per account: far above what listing needs (a scope is one request,
# rarely two), and below the rates AWS's read APIs allow an account.
DEFAULT_ACCOUNT_RATE = 20.0


# Throttled, an account's rate is halved, down to this; each call that goes through gives
# back a little, up to the configured rate (additive increase, multiplicative decrease: how
# AWS's own SDKs adapt in their "adaptive" retry mode).
MIN_ACCOUNT_RATE = 0.5
RECOVERY_PER_CALL = 0.1

_current: contextvars.ContextVar[tuple[AccountPacer, str] | None] = contextvars.ContextVar(
    "collector_current_pacer", default=None
)


class AccountPacer:
    """A token bucket per account, whose rate slows down while the account is throttled."""

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
        self._rates: dict[str, float] = {}
        """account -> its rate now, while below `rate`."""

    def rate_of(self, account_id: str) -> float:
        return self._rates.get(account_id, self.rate)

    async def wait(self, account_id: str) -> None:
        """Return once `account_id` may send another request."""
        now = self._clock()
        rate = self.rate_of(account_id)
        # Bursts of `rate` requests, and never less than one: a slowed-down account
        # still gets a request through now and then.
        capacity = max(1.0, rate)
        tokens, counted = self._buckets.get(account_id, (capacity, now))
        tokens = min(capacity, tokens + max(0.0, now - counted) * rate) - 1.0
        self._buckets[account_id] = (tokens, now)
        if tokens < 0.0:
            # Short of a token, the request reserves the next one and waits for it: callers
            # queue behind it (the balance is owed) instead of waking to race for a token,
            # and no loop re-reads a clock that a short wait may not have moved.
            await self._sleep(-tokens / rate)

    def throttled(self, account_id: str) -> None:
        """AWS throttled a call of the account: halve its rate."""
        self._rates[account_id] = max(MIN_ACCOUNT_RATE, self.rate_of(account_id) / 2)

    def went_through(self, account_id: str) -> None:
        """A call of the account went through: give back some of its rate."""
        slowed = self._rates.get(account_id)
        if slowed is not None:
            recovered = slowed + RECOVERY_PER_CALL
            if recovered >= self.rate:
                del self._rates[account_id]
            else:
                self._rates[account_id] = recovered


@contextmanager
def pacing(pacer: AccountPacer, account_id: str) -> Iterator[None]:
    """Tell `pacer` how the calls of this task (made for `account_id`) fare."""
    token = _current.set((pacer, account_id))
    try:
        yield
    finally:
        _current.reset(token)


def record_outcome(throttled: bool) -> None:
    """How a call of this task fared, for its account's pacer (if any)."""
    current = _current.get()
    if current is None:
        return
    pacer, account_id = current
    if throttled:
        pacer.throttled(account_id)
    else:
        pacer.went_through(account_id)
