"""What a request handler sees: the parsed call and the server's shared state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ._auth import CredentialStore
from ._faults import Faults
from ._model import Organization, ScopeKey
from ._pages import PageCache
from ._stats import Stats
from ._tokens import TokenCodec


@dataclass
class Call:
    """One AWS request, decoded just enough to route it."""

    service: str
    operation: str
    region: str
    access_key: str | None
    session_token: str | None
    body: bytes
    request_id: str
    form: dict[str, str] = field(default_factory=dict)
    """Decoded form body (query protocols only)."""
    scope: ScopeKey | None = None
    """(account, region) of an AppFlow call once known, for statistics."""


@dataclass
class ServerState:
    """Everything the handlers share; one per running server."""

    org: Organization
    faults: Faults
    clock: Callable[[], float]
    credentials: CredentialStore
    tokens: TokenCodec
    pages: PageCache
    stats: Stats
    credential_lifetime_cap: float | None = None
    buckets: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    """(account, rate-limit key) -> (tokens left, when counted), for `Faults.rate_limits`."""
    control_token: str | None = None
    """When set, `/_sim` requests must carry it in `X-Sim-Token` (a simulator serving more
    than loopback); None: loopback only, open."""
