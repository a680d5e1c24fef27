"""Following `nextToken` through one AppFlow listing, with the checks every listing needs.

botocore has no paginators for these operations. A failed page is retried with its own
token; a listing is never restarted from page one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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

log = logging.getLogger("collector")


class RejectedToken(AwsError):
    """The service refused a page's `nextToken` as invalid (it expired, say)."""


@dataclass(slots=True)
class Pager:
    """Follows the pages of one scope's listing of one resource, counting its pages in
    `listing` and its attempts in `counter`."""

    policy: RetryPolicy
    counter: Attempts
    listing: Listing
    items: str
    """What a page holds, for messages (`flows`)."""
    too_many: str
    """The error code of a page holding more items than asked for (`TooManyFlows`)."""

    async def follow(
        self,
        fetch: Callable[[dict[str, Any]], Awaitable[Page]],
        params: dict[str, Any],
        on_page: Callable[[list[dict[str, Any]]], None],
        on_restart: Callable[[], None],
    ) -> None:
        """Fetch every page of the listing `params` asks for and hand each page's items to
        `on_page`. Raises `AwsError` for a page holding more than `maxResults` items, a
        repeated token, or too many pages.

        A `nextToken` the service rejects mid-listing (it expired, say) restarts the listing
        once from the first page, after `on_restart` forgot what was handed over; a second
        rejection ends the listing.
        """
        try:
            await self._follow(fetch, params, on_page)
        except RejectedToken as error:
            log.warning(
                "the service rejected a nextToken (%s); listing again from the first page",
                error.message,
                extra={"event": "listing_restarted"},
            )
            on_restart()
            await self._follow(fetch, params, on_page)

    async def _follow(
        self,
        fetch: Callable[[dict[str, Any]], Awaitable[Page]],
        params: dict[str, Any],
        on_page: Callable[[list[dict[str, Any]]], None],
    ) -> None:
        token: str | None = None
        seen_tokens: set[str] = set()
        for _ in range(MAX_PAGES):
            request = params if token is None else {**params, "nextToken": token}
            try:
                found, token = await call_with_retries(
                    partial(fetch, request), self.policy, self.counter
                )
            except AwsError as error:
                if "nextToken" in request and error.kind is ErrorKind.VALIDATION_ERROR:
                    raise RejectedToken(error.kind, error.code, error.message) from error
                raise
            self._check_size(found, request["maxResults"])
            self.listing.pages += 1
            on_page(found)
            if token is None:
                return
            if token in seen_tokens:
                raise AwsError(
                    ErrorKind.INVALID_RESPONSE,
                    "RepeatedNextToken",
                    f"the service returned the same nextToken twice after page "
                    f"{self.listing.pages}",
                )
            seen_tokens.add(token)
        raise AwsError(ErrorKind.INVALID_RESPONSE, "TooManyPages", f"more than {MAX_PAGES} pages")

    def _check_size(self, found: list[dict[str, Any]], asked: int) -> None:
        if len(found) > asked:
            raise AwsError(
                ErrorKind.INVALID_RESPONSE,
                self.too_many,
                f"a page holds {len(found)} {self.items}, more than the {asked} asked for",
                retryable=False,
            )
