"""Page through `DescribeConnectorProfiles` for one (account, region) scope.

botocore has no paginator for this operation, so this loops on `nextToken` itself. A failed
page is retried with its own token; a scope is never restarted from page one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from .._errors import AwsError, ErrorKind
from .._model.profiles import ProfileDataError, normalize_profile
from .._model.scopes import Scope, ScopeOutcome, ScopeStatus
from .clients import raw_body
from .retry import Attempts, RetryPolicy, call_with_retries

PAGE_SIZE = 100
MAX_NAMES_PER_CALL = 100
# Far beyond the 100-profile quota: a guard against a service that never stops paging.
MAX_PAGES = 1000


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
    client: Any,
    scope: Scope,
    listing_filter: ListingFilter,
    policy: RetryPolicy,
    now: Callable[[], datetime],
) -> ScopeOutcome:
    """List one scope completely, or say why not. Never raises for AWS or data errors."""
    outcome = ScopeOutcome(scope, ScopeStatus.SUCCEEDED, started_at=now(), finished_at=now())
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
    outcome.finished_at = now()
    return outcome


async def _list_pages(
    client: Any,
    scope: Scope,
    params: dict[str, Any],
    policy: RetryPolicy,
    counter: Attempts,
    outcome: ScopeOutcome,
) -> None:
    token: str | None = None
    seen_tokens: set[str] = set()
    bad_data: list[str] = []
    for _ in range(MAX_PAGES):
        request = params if token is None else {**params, "nextToken": token}
        profiles, token = await call_with_retries(
            partial(_fetch_page, client, request), policy, counter
        )
        outcome.pages += 1
        for raw in profiles:
            try:
                outcome.records.append(normalize_profile(raw, scope.account_id, scope.region))
            except ProfileDataError as error:
                bad_data.append(str(error))
        if bad_data:
            raise AwsError(ErrorKind.INVALID_RESPONSE, "InvalidProfileData", "; ".join(bad_data))
        if token is None:
            return
        if token in seen_tokens:
            raise AwsError(
                ErrorKind.INVALID_RESPONSE,
                "RepeatedNextToken",
                f"the service returned the same nextToken twice after page {outcome.pages}",
            )
        seen_tokens.add(token)
    raise AwsError(ErrorKind.INVALID_RESPONSE, "TooManyPages", f"more than {MAX_PAGES} pages")


async def _fetch_page(
    client: Any, request: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    # Decoding is part of the attempt: a garbled body is retried like a 500.
    return _page(await client.describe_connector_profiles(**request))


def _page(response: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """The profiles and next token of one page, from the body as AWS sent it.

    A body without `connectorProfileDetails` is an error, not an empty page: botocore turns
    a truncated JSON body into a response without it, and reading that as "no profiles"
    would mark the whole scope deleted.
    """
    body = raw_body(response)
    try:
        data: Any = response if body is None else json.loads(body)
    except ValueError:
        raise AwsError(
            ErrorKind.INVALID_RESPONSE, "InvalidJson", "the response body is not valid JSON"
        ) from None
    if not isinstance(data, dict) or "connectorProfileDetails" not in data:
        raise AwsError(
            ErrorKind.INVALID_RESPONSE,
            "InvalidResponse",
            "the response has no connectorProfileDetails",
        )
    profiles = data["connectorProfileDetails"] or []
    token = data.get("nextToken") or None
    if not isinstance(profiles, list) or not all(isinstance(p, dict) for p in profiles):
        raise AwsError(
            ErrorKind.INVALID_RESPONSE,
            "InvalidResponse",
            "connectorProfileDetails is not a list of objects",
        )
    if token is not None and not isinstance(token, str):
        raise AwsError(ErrorKind.INVALID_RESPONSE, "InvalidResponse", "nextToken is not a string")
    return profiles, token
