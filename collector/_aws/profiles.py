"""Page through `DescribeConnectorProfiles` for one (account, region) scope (`paging`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from .._errors import AwsError, ErrorKind
from .._model.profiles import ProfileDataError, normalize_profile
from .._model.scopes import Listing, Scope, ScopeStatus
from .body import json_body, page_items
from .paging import PAGE_SIZE, follow_pages
from .retry import Attempts, RetryPolicy

MAX_NAMES_PER_CALL = 100


@dataclass(frozen=True, slots=True)
class ListingFilter:
    """The API's own filters, for a targeted refresh. Any filter makes a listing partial."""

    connector_type: str | None = None
    connector_label: str | None = None
    profile_names: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.connector_type or self.connector_label or self.profile_names)

    def requests(self) -> Iterator[dict[str, Any]]:
        """The request parameters of each independent listing this filter needs."""
        base: dict[str, Any] = {"maxResults": PAGE_SIZE}
        if self.connector_type:
            base["connectorType"] = self.connector_type
        if self.connector_label:
            base["connectorLabel"] = self.connector_label
        if not self.profile_names:
            yield base
            return
        names = list(dict.fromkeys(self.profile_names))
        for start in range(0, len(names), MAX_NAMES_PER_CALL):
            yield {**base, "connectorProfileNames": names[start : start + MAX_NAMES_PER_CALL]}


async def list_scope(
    client: Any, scope: Scope, listing_filter: ListingFilter, policy: RetryPolicy
) -> Listing:
    """List one scope's profiles completely, or say why not. Never raises for AWS or data
    errors."""
    outcome = Listing()
    counter = Attempts()
    try:
        for params in listing_filter.requests():
            await _list_pages(client, scope, params, policy, counter, outcome)
    except AwsError as error:
        outcome.status = ScopeStatus.FAILED
        outcome.error_code = error.kind.value
        outcome.aws_error_code = error.code
        outcome.error_message = error.message or error.code
    outcome.attempts = counter.attempts
    outcome.retries = counter.retries
    outcome.complete = outcome.status is ScopeStatus.SUCCEEDED and not listing_filter.active
    return outcome


async def _list_pages(
    client: Any,
    scope: Scope,
    params: dict[str, Any],
    policy: RetryPolicy,
    counter: Attempts,
    outcome: Listing,
) -> None:
    def normalized(profiles: list[dict[str, Any]]) -> None:
        bad_data: list[str] = []
        for raw in profiles:
            try:
                outcome.records.append(normalize_profile(raw, scope.account_id, scope.region))
            except ProfileDataError as error:
                bad_data.append(str(error))
        if bad_data:
            raise AwsError(ErrorKind.INVALID_RESPONSE, "InvalidProfileData", "; ".join(bad_data))

    fetch = partial(_fetch_page, client)
    await follow_pages(
        fetch,
        params,
        policy,
        counter,
        outcome,
        normalized,
        items="profiles",
        too_many="TooManyProfiles",
    )


async def _fetch_page(
    client: Any, request: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    # Decoding is part of the attempt: a garbled body is retried like a 500.
    return _page(await client.describe_connector_profiles(**request))


def _page(response: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """The profiles and next token of one page, from the body as AWS sent it.

    A JSON object without `connectorProfileDetails` is an empty page: the model does not
    mark it required and the docs promise an empty list when nothing matches. A truncated
    body never gets this far (it is not JSON); non-objects, wrongly typed members, NaN and
    nesting deeper than `MAX_JSON_DEPTH` are `invalid_response`.
    """
    return page_items(json_body(response), "connectorProfileDetails")
