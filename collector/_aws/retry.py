"""Retries with capped exponential backoff and full jitter.

The collector owns retries: botocore's own are switched off (one attempt per call), so the
attempts counted here are the attempts made on the wire. The clock (`sleep`) and the random
source are arguments, so tests drive the policy without waiting.
"""

from __future__ import annotations

import random as _random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio

from .._errors import AwsError
from .errors import translate

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]
Random = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry one call.

    `max_attempts` counts every attempt, the first included. The delay before retry *n*
    (1-based) is uniform in ``[0, min(max_delay, base_delay * 2 ** (n - 1))]`` ("full jitter").
    """

    max_attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 20.0
    sleep: Sleep = anyio.sleep
    random: Random = field(default=_random.random)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return self.random() * ceiling


@dataclass(slots=True)
class Attempts:
    """A running count of attempts and retries, kept per scope."""

    attempts: int = 0
    retries: int = 0


async def call_with_retries(
    call: Callable[[], Awaitable[T]], policy: RetryPolicy, counter: Attempts
) -> T:
    """Await `call()` until it succeeds, fails for good, or attempts run out.

    Raises the last `AwsError`. Exceptions that are not AWS or transport errors propagate
    untouched: they are bugs, not weather.
    """
    attempt = 0
    while True:
        attempt += 1
        counter.attempts += 1
        try:
            return await call()
        except Exception as exc:
            error = translate(exc)
            if error is None:
                raise
            if not error.retryable or attempt >= policy.max_attempts:
                raise _exhausted(error, attempt) from exc
        counter.retries += 1
        await policy.sleep(policy.delay(attempt))


def _exhausted(error: AwsError, attempts: int) -> AwsError:
    if attempts > 1:
        return AwsError(error.kind, error.code, f"{error.message} (after {attempts} attempts)")
    return error
