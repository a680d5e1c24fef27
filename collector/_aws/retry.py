"""Retries with capped exponential backoff and full jitter, as AWS's own SDKs do.

The collector owns retries: botocore's own are switched off (one attempt per call), so the
attempts counted here are the attempts made on the wire. The clock (`now`, `sleep`) and the
random source are arguments, so tests drive the policy without waiting; the account pacer of
a run keeps the same clock (`open_aws`), so a test drives a whole run's waits with it.

Throttling backs off from a longer base than server errors (being told to slow down is not
the same as a hiccup), a `Retry-After` / `x-amz-retry-after` from the service is honoured up
to the cap, and the control-plane calls (Organizations, STS, EC2), whose request limits are
low, keep retrying throttling until they have waited out a burst (`for_control_plane`).
"""

from __future__ import annotations

import random as _random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

import anyio

from .._errors import AwsError, ErrorKind
from .errors import translate
from .pacing import record_outcome

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]
Random = Callable[[], float]

# Control-plane calls get at least this many attempts...
CONTROL_PLANE_ATTEMPTS = 8
# ...and, while throttled, keep trying until they have waited this long in all: Organizations
# throttles in bursts of tens of seconds, and a nightly job should ride them out.
CONTROL_PLANE_THROTTLE_PATIENCE = 60.0
# A hard stop on attempts however short the jittered waits happen to be.
MAX_THROTTLED_ATTEMPTS = 40


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry one call.

    `max_attempts` counts every attempt, the first included. The delay before retry *n*
    (1-based) is uniform in ``[0, min(max_delay, base * 2 ** (n - 1))]`` ("full jitter"),
    where `base` is `throttle_base_delay` after throttling and `base_delay` otherwise.
    A throttled call is also retried past `max_attempts` until `throttle_patience` seconds
    of waiting have passed (0: never), up to `MAX_THROTTLED_ATTEMPTS`.
    """

    max_attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 20.0
    sleep: Sleep = anyio.sleep
    random: Random = field(default=_random.random)
    throttle_base_delay: float = 1.0
    # The clock `sleep` moves: not read by retries, which only wait, but by the run's pacer.
    now: Callable[[], float] = anyio.current_time
    throttle_patience: float = 0.0

    def delay(self, retry: int, error: AwsError | None = None) -> float:
        """Seconds to wait before retry number `retry` (1 for the first retry) after `error`."""
        throttled = error is not None and error.kind is ErrorKind.THROTTLED
        base = self.throttle_base_delay if throttled else self.base_delay
        ceiling = min(self.max_delay, base * 2.0 ** (retry - 1))
        wait = self.random() * ceiling
        if error is not None and error.retry_after is not None:
            # The service knows best how long to wait, within our own cap.
            wait = max(wait, min(self.max_delay, error.retry_after))
        return wait

    def may_retry(self, attempt: int, error: AwsError, waited: float) -> bool:
        """Whether to try again after attempt `attempt` failed with `error`, having
        waited `waited` seconds for throttling so far."""
        if not error.retryable:
            return False
        if attempt < self.max_attempts:
            return True
        return (
            error.kind is ErrorKind.THROTTLED
            and waited < self.throttle_patience
            and attempt < MAX_THROTTLED_ATTEMPTS
        )

    def for_control_plane(self) -> RetryPolicy:
        """This policy for Organizations, STS and EC2: more attempts, and patience with
        throttling."""
        return replace(
            self,
            max_attempts=max(self.max_attempts, CONTROL_PLANE_ATTEMPTS),
            throttle_patience=max(self.throttle_patience, CONTROL_PLANE_THROTTLE_PATIENCE),
        )

    def single_attempt(self) -> RetryPolicy:
        """This policy with one attempt and no patience: for optional look-ups."""
        return replace(self, max_attempts=1, throttle_patience=0.0)


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
    waited = 0.0
    while True:
        attempt += 1
        counter.attempts += 1
        try:
            result = await call()
        except Exception as exc:
            error = translate(exc)
            if error is None:
                raise
            record_outcome(throttled=error.kind is ErrorKind.THROTTLED)
            if not policy.may_retry(attempt, error, waited):
                raise _exhausted(error, attempt) from exc
        else:
            record_outcome(throttled=False)
            return result
        counter.retries += 1
        wait = policy.delay(attempt, error)
        if error.kind is ErrorKind.THROTTLED:
            waited += wait
        await policy.sleep(wait)


def _exhausted(error: AwsError, attempts: int) -> AwsError:
    if attempts > 1:
        return AwsError(
            error.kind,
            error.code,
            f"{error.message} (after {attempts} attempts)",
            retryable=error.retryable,
        )
    return error
