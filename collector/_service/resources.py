"""The resources a run lists in each scope, one registration each.

A registration prepares its lister once per run (the profile filters; the digests of the
flows already stored) and then lists one scope through the scope's shared AppFlow client.
A new resource is a lister in `_aws/`, a spec in `_store/` and an entry in `REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from .._aws import ListingFilter, RetryPolicy, list_flows, list_scope
from .._config import Settings
from .._model.organization import AccountInfo
from .._model.scopes import FLOWS, PROFILES, Listing, Scope, ScopeOutcome
from .._store import Store
from .regions import refused_as_unknown_token

Lister = Callable[[Any, Scope, RetryPolicy], Awaitable[Listing]]
"""(AppFlow client, scope, retry policy) -> the scope's listing of one resource."""
Prepare = Callable[[Settings, Store, Sequence[AccountInfo]], Awaitable[Lister]]


async def _profiles(settings: Settings, store: Store, accounts: Sequence[AccountInfo]) -> Lister:
    listing_filter = ListingFilter(
        connector_type=settings.connector_type,
        connector_label=settings.connector_label,
        profile_names=settings.profile_name,
    )

    async def lister(client: Any, scope: Scope, retry: RetryPolicy) -> Listing:
        return await list_scope(client, scope, listing_filter, retry)

    return lister


async def _flows(settings: Settings, store: Store, accounts: Sequence[AccountInfo]) -> Lister:
    # Read once per run: a flow whose definition is the stored one is not described again.
    known = await store.known_flows([a.account_id for a in accounts if a.collect])

    async def lister(client: Any, scope: Scope, retry: RetryPolicy) -> Listing:
        return await list_flows(client, scope, known, retry)

    return lister


REGISTRY: dict[str, Prepare] = {PROFILES: _profiles, FLOWS: _flows}
"""Every resource a run can list, by name, in the order a scope lists them."""


async def prepare_listers(
    settings: Settings, store: Store, accounts: Sequence[AccountInfo]
) -> list[tuple[str, Lister]]:
    """The listers of the resources this run lists (`--resources`), in registry order."""
    chosen = settings.listed_resources
    return [
        (name, await prepare(settings, store, accounts))
        for name, prepare in REGISTRY.items()
        if name in chosen
    ]


async def list_resources(
    client: Any,
    scope: Scope,
    listers: Sequence[tuple[str, Lister]],
    retry: RetryPolicy,
    now: Callable[[], datetime],
) -> ScopeOutcome:
    """List every resource of one scope, one after the other."""
    started = now()
    listings: dict[str, Listing] = {}
    for name, lister in listers:
        listing = await lister(client, scope, retry)
        listings[name] = listing
        if refused_as_unknown_token(listing):
            # AppFlow does not know these credentials here: every other call gets the same
            # answer, and whether the region is enabled is decided for the whole scope.
            break
    return ScopeOutcome.of(scope, started, now(), listings)
