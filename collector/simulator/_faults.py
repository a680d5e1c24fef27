"""Injected faults: latency, errors, dropped connections and broken paging.

A `Faults` object is read by the server on every request and may be changed by tests at any
time. Random decisions come from its own seeded `random.Random`, so a run is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ._model import ScopeKey

BURST_KINDS = ("throttle", "server_error", "expired_token")


@dataclass
class Burst:
    """Answer the matching requests with one kind of error for a while.

    `kind` is `throttle`, `server_error` or `expired_token`; each service answers it with
    its own code and status (see `_protocols.FAULT_ERRORS`). The burst covers the next
    `requests` matching requests, or every matching request for `seconds` (simulator clock)
    from the first one, or both (whichever ends first); neither: forever.
    """

    kind: str
    requests: int | None = None
    seconds: float | None = None
    after: int = 0
    """Matching requests answered normally before the burst starts."""
    retry_after: float | None = None
    """Sent as `Retry-After` (seconds) when set."""
    served: int = 0
    started: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in BURST_KINDS:
            raise ValueError(f"burst kind must be one of {BURST_KINDS}, not {self.kind!r}")

    def hit(self, now: float) -> bool:
        """Whether this request falls in the burst (and count it if so)."""
        if self.after > 0:
            self.after -= 1
            return False
        if self.started is None:
            self.started = now
        if self.requests is not None and self.served >= self.requests:
            return False
        if self.seconds is not None and now - self.started >= self.seconds:
            return False
        self.served += 1
        return True


@dataclass
class Faults:
    """Fault knobs. Rates are probabilities per AppFlow request (of every operation); 0
    turns a fault off."""

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
    expiring_token_scopes: dict[ScopeKey, int] = field(default_factory=dict)
    """Scope -> K: the token for page K+1 is rejected as expired the first time only (the
    scope then leaves this table); a listing started again goes through."""
    """Scope -> K: the token for page K+1 is rejected as invalid."""
    rate_limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    """"service" or "service:Operation" -> (requests per second, burst): each account's own
    token bucket, as AWS throttles each account's calls; past it, the service's throttling
    error (simulator clock)."""
    bursts: dict[str, Burst] = field(default_factory=dict)
    """"service" or "service:Operation" (e.g. "organizations:ListAccounts", "sts", "ec2")
    -> a burst of errors in that service's own words."""
    assume_role_quota: dict[str, int] = field(default_factory=dict)
    """Account id -> AssumeRole calls that succeed; later ones are denied (a role deleted
    mid-run, so refreshing its credentials fails)."""
    empty_organization_pages: int = 0
    """Empty pages, each with a NextToken, that Organizations sends before every real page."""
    endless_organization_pages: bool = False
    """Organizations listings never end: empty pages, each with a new NextToken."""
    omit_empty_list_scopes: set[ScopeKey] = field(default_factory=set)
    """Scopes whose empty pages are `{}`, without `connectorProfileDetails`."""
    deep_json_scopes: dict[ScopeKey, int] = field(default_factory=dict)
    """Scope -> depth of nested arrays added to its first profile (hostile JSON)."""
    huge_body_scopes: dict[ScopeKey, int] = field(default_factory=dict)
    """Scope -> bytes of padding in its first page's first profile, streamed."""
    chunked_bodies: bool = False
    """Send huge bodies chunked, without a Content-Length."""
    overfull_page_scopes: set[ScopeKey] = field(default_factory=set)
    """Scopes whose pages hold every profile, whatever `maxResults` asks."""
    odd_body_scopes: dict[ScopeKey, bytes] = field(default_factory=dict)
    """Scope -> the exact body of every successful page (a hostile endpoint: JSON that is
    not an object, members of the wrong type, NaN)."""
    paging_fault_operations: set[str] = field(default_factory=lambda: {"DescribeConnectorProfiles"})
    """The AppFlow listings the scope-keyed paging faults above apply to (repeated and
    invalid tokens, deep, huge, overfull, odd and list-less pages): `DescribeConnectorProfiles`,
    `ListFlows`, ... Rates, failing scopes and slow scopes apply to every AppFlow call."""
    vanishing: set[str] = field(default_factory=set)
    """ARNs of items a listing lists but whose detail call no longer finds them (deleted
    between the two calls): ResourceNotFoundException."""
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
