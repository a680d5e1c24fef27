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
from .lean import raw_body
from .retry import Attempts, RetryPolicy, call_with_retries

PAGE_SIZE = 100
MAX_NAMES_PER_CALL = 100
# Far beyond the 100-profile quota: a guard against a service that never stops paging.
MAX_PAGES = 1000
# Profiles nest a handful of levels; anything this deep is broken or hostile, and would
# exhaust the recursion of every JSON walker after it.
MAX_JSON_DEPTH = 64


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
        if len(profiles) > request["maxResults"]:
            raise AwsError(
                ErrorKind.INVALID_RESPONSE,
                "TooManyProfiles",
                f"a page holds {len(profiles)} profiles, more than the "
                f"{request['maxResults']} asked for",
                retryable=False,
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

    A JSON object without `connectorProfileDetails` is an empty page: the model does not
    mark it required and the docs promise an empty list when nothing matches. A truncated
    body never gets this far (it is not JSON); non-objects, wrongly typed members, NaN and
    nesting deeper than `MAX_JSON_DEPTH` are `invalid_response`.
    """
    body = raw_body(response)
    try:
        data: Any = response if body is None else json.loads(body, parse_constant=_no_constant)
    except ValueError:
        raise AwsError(
            ErrorKind.INVALID_RESPONSE, "InvalidJson", "the response body is not valid JSON"
        ) from None
    except RecursionError:
        raise AwsError(
            ErrorKind.INVALID_RESPONSE,
            "InvalidResponse",
            f"the response is nested deeper than {MAX_JSON_DEPTH} levels",
            retryable=False,
        ) from None
    if not isinstance(data, dict):
        raise AwsError(
            ErrorKind.INVALID_RESPONSE, "InvalidResponse", "the response is not a JSON object"
        )
    if _too_deep(data, MAX_JSON_DEPTH):
        raise AwsError(
            ErrorKind.INVALID_RESPONSE,
            "InvalidResponse",
            f"the response is nested deeper than {MAX_JSON_DEPTH} levels",
            retryable=False,
        )
    profiles = data.get("connectorProfileDetails")
    if profiles is None:
        profiles = []
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


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python accepts them, databases would not.
    raise ValueError(f"{name} is not JSON")


def _too_deep(value: Any, limit: int) -> bool:
    """Whether `value` nests containers more than `limit` levels (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values() if _container(child))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if _container(child))
    return False


def _container(value: Any) -> bool:
    return isinstance(value, dict | list)
