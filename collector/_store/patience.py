"""Riding out a database that is away for a while: a restart, an RDS Multi-AZ failover.

A statement that fails because the database is away (`DatabaseUnavailableError`) is run
again, whole, with exponential backoff, until it succeeds or `Patience.seconds` have passed.
Each is one transaction, so replaying it writes nothing twice: what it read it reads again.
The clock and the sleep are arguments, so tests drive it without waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio

from .._errors import DatabaseUnavailableError

log = logging.getLogger("collector")

T = TypeVar("T")

DEFAULT_PATIENCE = 120.0
"""Seconds: an RDS Multi-AZ failover takes one to two minutes."""


@dataclass(frozen=True, slots=True)
class Patience:
    """How long, and how, a run waits for a database that is away."""

    seconds: float = DEFAULT_PATIENCE
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    clock: Callable[[], float] = anyio.current_time
    first_delay: float = 0.5
    max_delay: float = 10.0


async def ride_out(
    operation: Callable[[], Awaitable[T]],
    patience: Patience,
    recovered: Callable[[], Awaitable[None]] | None = None,
) -> T:
    """`operation()`, run again while the database is away, for up to `patience.seconds`;
    then its `DatabaseUnavailableError`. `recovered` runs once the database answers again,
    before the operation is replayed (to take the run's lock back, say)."""
    started: float | None = None
    delay = patience.first_delay
    while True:
        try:
            if started is not None and recovered is not None:
                await recovered()
            result = await operation()
        except DatabaseUnavailableError as error:
            now = patience.clock()
            if started is None:
                started = now
                log.warning(
                    "the database is away (%s); trying again for up to %gs",
                    error,
                    patience.seconds,
                    extra={"event": "database_away"},
                )
            if now - started + delay > patience.seconds:
                raise DatabaseUnavailableError(
                    f"{error} (still away after {now - started:.0f}s)"
                ) from error
            await patience.sleep(delay)
            delay = min(delay * 2, patience.max_delay)
            continue
        if started is not None:
            log.warning(
                "the database is back after %.0fs",
                patience.clock() - started,
                extra={"event": "database_back"},
            )
        return result
