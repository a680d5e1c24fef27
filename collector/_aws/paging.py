"""Following `nextToken` through one AppFlow listing, with the checks every listing needs.

botocore has no paginators for these operations. A failed page is retried with its own
token; a listing is never restarted from page one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from .._errors import AwsError, ErrorKind
from .._model.scopes import Listing
from .retry import Attempts, RetryPolicy, call_with_retries

PAGE_SIZE = 100
# Far beyond any account's quota: a guard against a service that never stops paging.
MAX_PAGES = 1000

Page = tuple[list[dict[str, Any]], str | None]
"""The items of one page and its next token."""


async def follow_pages(
    fetch: Callable[[dict[str, Any]], Awaitable[Page]],
    params: dict[str, Any],
    policy: RetryPolicy,
    counter: Attempts,
    listing: Listing,
    on_page: Callable[[list[dict[str, Any]]], None],
    *,
    items: str,
    too_many: str,
) -> None:
    """Fetch every page of the listing `params` asks for and hand each page's items to
    `on_page`, counting pages in `listing`. Raises `AwsError` for a page holding more than
    `maxResults` `items` (code `too_many`), a repeated token, or too many pages."""
    token: str | None = None
    seen_tokens: set[str] = set()
    for _ in range(MAX_PAGES):
        request = params if token is None else {**params, "nextToken": token}
        found, token = await call_with_retries(partial(fetch, request), policy, counter)
        if len(found) > request["maxResults"]:
            raise AwsError(
                ErrorKind.INVALID_RESPONSE,
                too_many,
                f"a page holds {len(found)} {items}, more than the "
                f"{request['maxResults']} asked for",
                retryable=False,
            )
        listing.pages += 1
        on_page(found)
        if token is None:
            return
        if token in seen_tokens:
            raise AwsError(
                ErrorKind.INVALID_RESPONSE,
                "RepeatedNextToken",
                f"the service returned the same nextToken twice after page {listing.pages}",
            )
        seen_tokens.add(token)
    raise AwsError(ErrorKind.INVALID_RESPONSE, "TooManyPages", f"more than {MAX_PAGES} pages")
