"""The resources a run lists in each scope, as their descriptors say.

A listing plan is prepared once per run for each resource `--resources` names (the
targeted refresh's filters; what the store already holds of resources listed as summaries),
then each scope lists its resources one after the other through the scope's shared AppFlow
client.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from .._aws import ListingPlan, list_resource
from .._model.organization import AccountInfo
from .._model.resource import ListingFilter, Resource
from .._model.scopes import Listing, Scope, ScopeOutcome
from .context import Run
from .regions import refused_as_unknown_token


async def prepare_listings(run: Run, accounts: Sequence[AccountInfo]) -> list[ListingPlan]:
    """How this run lists each resource it lists (`--resources`), in listing order."""
    settings = run.settings
    selection = ListingFilter(
        connector_type=settings.connector_type,
        connector_label=settings.connector_label,
        profile_names=settings.profile_name,
    )
    collected = [a.account_id for a in accounts if a.collect]
    return [
        ListingPlan(
            resource,
            run.aws.retry,
            selection,
            await _known(run, resource, collected),
            now=run.result.started_at,
            describe_max_age=settings.describe_max_age,
        )
        for resource in settings.listed_resources
    ]


async def _known(run: Run, resource: Resource, accounts: list[str]) -> Any:
    # Read once per run: a record whose summary is the stored one is not described again.
    return await run.store.known(resource, accounts) if resource.api.describe else {}


async def list_resources(
    client: Any, scope: Scope, plans: Sequence[ListingPlan], now: Callable[[], datetime]
) -> ScopeOutcome:
    """List every resource of one scope, one after the other."""
    started = now()
    listings: dict[Resource, Listing] = {}
    for plan in plans:
        listing = await list_resource(client, scope, plan)
        listings[plan.resource] = listing
        if refused_as_unknown_token(listing):
            # AppFlow does not know these credentials here: every other call gets the same
            # answer, and whether the region is enabled is decided for the whole scope.
            break
    return ScopeOutcome.of(scope, started, now(), listings)
