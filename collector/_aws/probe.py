"""One call of a resource's listing operation, to prove it is allowed (`collector check`).

The first page of at most one item: what a run's first call of the scope would be asked,
without paging on, describing or storing anything.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from .._model.resource import ListingFilter, Resource
from .body import json_body, page_items
from .retry import Attempts, RetryPolicy, call_with_retries
from .sent import checked_method


async def probe_listing(
    client: Any, resource: Resource, policy: RetryPolicy, counter: Attempts
) -> int:
    """The number of items on the first page of one item of `resource`'s listing (0 or 1).

    Call inside `acting_as` the account's credentials. Raises `AwsError`.
    """
    request = {**resource.api.listing_requests(ListingFilter())[0], "maxResults": 1}
    method = checked_method(client, resource.api.operation)

    async def call() -> int:
        # Decoding is part of the attempt, as in a listing: a garbled body is retried.
        items, _ = page_items(json_body(await method(**request)), resource.api.items)
        return len(items)

    return await call_with_retries(partial(call), policy, counter)
