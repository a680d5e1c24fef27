"""Injected faults: latency, errors, dropped connections and broken paging.

A `Faults` object is read by the server on every request and may be changed by tests at any
time. Random decisions come from its own seeded `random.Random`, so a run is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ._model import ScopeKey


@dataclass
class Faults:
    """Fault knobs. Rates are probabilities per AppFlow request; 0 turns a fault off."""

    seed: int = 0
    latency: float = 0.0
    """Seconds added to every request (all services)."""
    latency_jitter: float = 0.0
    """Fraction of `latency` by which each delay varies (0.2 = +-20%)."""
    error_rate_500: float = 0.0
    error_rate_429: float = 0.0
    drop_rate: float = 0.0
    """Probability the connection is closed without any response."""
    malformed_json_rate: float = 0.0
    """Probability of a 200 answer whose JSON body is cut short."""
    failing_scopes: dict[ScopeKey, str] = field(default_factory=dict)
    """Scope -> error code it always answers (e.g. "ThrottlingException")."""
    deny_assume_role: set[str] = field(default_factory=set)
    """Account ids into which AssumeRole is refused."""
    slow_scopes: set[ScopeKey] = field(default_factory=set)
    slow_seconds: float = 30.0
    """Delay of every answer from a scope in `slow_scopes`."""
    repeat_token_scopes: dict[ScopeKey, int] = field(default_factory=dict)
    """Scope -> page number N (1-based) from which the same nextToken comes back forever."""
    invalid_token_after_pages: dict[ScopeKey, int] = field(default_factory=dict)
    """Scope -> K: the token for page K+1 is rejected as invalid."""
    rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        """Restart the random sequence."""
        self.seed = seed
        self.rng = random.Random(seed)

    def delay(self) -> float:
        """The latency to add to one request."""
        if self.latency <= 0:
            return 0.0
        spread = self.latency * self.latency_jitter
        return max(0.0, self.latency + self.rng.uniform(-spread, spread))

    def roll(self, rate: float) -> bool:
        """True with probability `rate` (no random draw when the rate is 0)."""
        return rate > 0 and self.rng.random() < rate
