"""AppFlow DescribeConnectorProfiles (rest-json), with request validation and faults.

This is the hot path of a benchmark: pages come serialized from the cache, and the answer
is assembled from bytes around them.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

from ._auth import Identity, invalid_token_error
from ._catalog import APPFLOW_REGIONS, DEFAULT_REGIONS
from ._context import Call, ServerState
from ._model import ScopeKey
from ._pages import Page, ProfileFilter
from ._protocols import APPFLOW, DropConnection, Reply, SimError, appflow_error
from ._tokens import Cursor

_APPFLOW_REGIONS = frozenset(APPFLOW_REGIONS)
_DEFAULT_REGIONS = frozenset(DEFAULT_REGIONS)
_NAME = re.compile(r"[\w/!@#+=.-]+", re.ASCII)
_LABEL = re.compile(r"[a-zA-Z0-9][\w!@#.-]+", re.ASCII)
_TOKEN = re.compile(r"\S+")
_DEFAULT_PAGE = 20
_INVALID_TOKEN = "Invalid nextToken: it is malformed, expired, or from another request."

_FAILURE_MESSAGES = {
    "InternalServerException": "An internal service error occurred.",
    "ThrottlingException": "Rate exceeded",
    "ServiceUnavailableException": "Service is unavailable, please try again later.",
}


def _violation(field: str, value: object, constraint: str) -> str:
    return f"Value '{value}' at '{field}' failed to satisfy constraint: Member must {constraint}"


def _check_names(names: object, problems: list[str]) -> tuple[str, ...] | None:
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        problems.append(_violation("connectorProfileNames", names, "be a list of strings"))
        return None
    if len(names) > 100:
        problems.append(
            _violation("connectorProfileNames", names, "have length less than or equal to 100")
        )
    for name in names:
        if len(name) > 256 or _NAME.fullmatch(name) is None:
            problems.append(
                _violation(
                    "connectorProfileNames.member",
                    name,
                    r"satisfy regular expression pattern: [\w/!@#+=.-]+",
                )
            )
    return tuple(sorted(set(names)))


def _check_max_results(value: object, problems: list[str]) -> int:
    if value is None:
        return _DEFAULT_PAGE
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(_violation("maxResults", value, "be an integer"))
        return _DEFAULT_PAGE
    if value > 100:
        problems.append(_violation("maxResults", value, "have value less than or equal to 100"))
    elif value < 1:
        problems.append(_violation("maxResults", value, "have value greater than or equal to 1"))
    return value


def _check_string(
    field: str, value: object, pattern: re.Pattern[str], limit: int, problems: list[str]
) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or pattern.fullmatch(value) is None:
        problems.append(
            _violation(
                field,
                value,
                f"have length less than or equal to {limit} "
                f"and satisfy regular expression pattern: {pattern.pattern}",
            )
        )
        return None
    return value


def parse_request(body: bytes, known_types: set[str]) -> tuple[ProfileFilter, int, str | None]:
    """(filter, maxResults, nextToken) of a request; ValidationException if invalid."""
    try:
        params: Any = json.loads(body) if body else {}
    except ValueError as exc:
        raise SimError("SerializationException", "Malformed JSON request body", 400) from exc
    if not isinstance(params, dict):
        raise SimError("SerializationException", "Expected a JSON object", 400)
    problems: list[str] = []
    names = _check_names(params.get("connectorProfileNames"), problems)
    size = _check_max_results(params.get("maxResults"), problems)
    connector_type = params.get("connectorType")
    if connector_type is not None and connector_type not in known_types:
        problems.append(_violation("connectorType", connector_type, "satisfy enum value set"))
    label = _check_string("connectorLabel", params.get("connectorLabel"), _LABEL, 256, problems)
    token = _check_string("nextToken", params.get("nextToken"), _TOKEN, 2048, problems)
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        message = f"{count} validation {noun} detected: " + "; ".join(problems)
        raise appflow_error("ValidationException", message)
    selection = ProfileFilter(names, connector_type, label)
    return selection, size, token


def _check_reachable(state: ServerState, key: ScopeKey) -> None:
    account_id, region = key
    if region not in _APPFLOW_REGIONS:
        raise DropConnection  # no AppFlow endpoint there: the closest a server gets to DNS
    if region in _DEFAULT_REGIONS:
        return
    account = state.org.accounts.get(account_id)
    if account is None or region not in account.enabled_opt_in_regions:
        # What AWS answers in an opt-in region the account has not enabled.
        raise invalid_token_error(APPFLOW)


def _inject_errors(state: ServerState, key: ScopeKey, identity: Identity) -> None:
    faults = state.faults
    if faults.roll(faults.drop_rate):
        raise DropConnection
    code = faults.failing_scopes.get(key)
    if code is not None:
        message = _FAILURE_MESSAGES.get(code) or (
            f"User: {identity.arn} is not authorized to perform: "
            f"appflow:DescribeConnectorProfiles ({code})"
        )
        raise appflow_error(code, message)
    if faults.roll(faults.error_rate_429):
        raise appflow_error("ThrottlingException", _FAILURE_MESSAGES["ThrottlingException"])
    if faults.roll(faults.error_rate_500):
        raise appflow_error("InternalServerException", _FAILURE_MESSAGES["InternalServerException"])


def _cursor(state: ServerState, key: ScopeKey, binding: str, token: str | None) -> Cursor:
    """Where the request starts; ValidationException for a bad or fault-expired token."""
    cursor = Cursor(0, 1) if token is None else state.tokens.read(token, binding)
    limit = state.faults.invalid_token_after_pages.get(key)
    if cursor is None or (limit is not None and cursor.page > limit):
        raise appflow_error("ValidationException", _INVALID_TOKEN)
    return cursor


def _next_token(
    state: ServerState, key: ScopeKey, binding: str, token: str | None, cursor: Cursor, page: Page
) -> str | None:
    repeat_from = state.faults.repeat_token_scopes.get(key)
    if repeat_from is not None and cursor.page >= repeat_from:
        # The looping-token fault: hand back the token that asked for this very page.
        return token or state.tokens.issue(binding, cursor)
    if page.next_offset is None:
        return None
    return state.tokens.issue(binding, Cursor(page.next_offset, cursor.page + 1))


def _body(page: Page, next_token: str | None, omit_empty: bool) -> bytes:
    # Assembled from bytes: the page is serialized once, tokens are URL-safe base64.
    if omit_empty and page.count == 0 and next_token is None:
        # The model does not require the list; an empty answer may leave it out.
        return b"{}"
    body = b'{"connectorProfileDetails":' + page.items
    if next_token is not None:
        body += b',"nextToken":"' + next_token.encode() + b'"'
    return body + b"}"


def _deep(page: Page, depth: int) -> bytes:
    """The page with `depth` nested arrays in its first profile: hostile JSON."""
    nested = b"[" * depth + b"]" * depth
    items = page.items
    if items.startswith(b"[{"):
        items = b'[{"deep":' + nested + b"," + items[2:]
    else:
        items = b'[{"deep":' + nested + b"}]"
    return b'{"connectorProfileDetails":' + items + b"}"


_PAD_CHUNK = b"a" * (256 * 1024)


def _huge(page: Page, padding: int, chunked: bool, request_id: str) -> Reply:
    """A valid page whose first profile carries `padding` bytes, streamed in chunks."""
    head = b'{"connectorProfileDetails":[{"padding":"'
    others = b"," + page.items[1:] if page.count else b"]"
    tail = b'"}' + others + b"}"

    def chunks() -> Iterator[bytes]:
        yield head
        left = padding
        while left > 0:
            piece = _PAD_CHUNK[: min(left, len(_PAD_CHUNK))]
            left -= len(piece)
            yield piece
        yield tail

    length = None if chunked else len(head) + padding + len(tail)
    headers = {"x-amzn-RequestId": request_id}
    return Reply(200, b"", "application/json", headers, stream=chunks(), stream_length=length)


async def handle_appflow(state: ServerState, call: Call, identity: Identity) -> Reply:
    """Answer one AppFlow call."""
    if call.operation != "DescribeConnectorProfiles":
        raise SimError("UnknownOperationException", "Unknown operation", 404)
    key = (identity.account_id, call.region)
    call.scope = key
    _check_reachable(state, key)
    _inject_errors(state, key, identity)
    selection, size, token = parse_request(call.body, state.org.known_connector_types())
    binding = f"{key[0]}|{key[1]}|{selection.binding()}"
    cursor = _cursor(state, key, binding, token)
    faults = state.faults
    if key in faults.slow_scopes:
        await asyncio.sleep(faults.slow_seconds)
    size = min(size, state.org.short_page_sizes.get(key, size))
    if key in faults.overfull_page_scopes:
        size = len(state.org.profiles(*key)) + 1  # every profile, whatever maxResults says
    page = state.pages.page(key, selection, cursor.offset, size)
    if key in faults.huge_body_scopes:
        return _huge(page, faults.huge_body_scopes[key], faults.chunked_bodies, call.request_id)
    next_token = _next_token(state, key, binding, token, cursor, page)
    body = _body(page, next_token, key in faults.omit_empty_list_scopes)
    if key in faults.deep_json_scopes:
        body = _deep(page, faults.deep_json_scopes[key])
    if faults.roll(faults.malformed_json_rate):
        body = body[: len(body) // 2]
    return Reply(200, body, "application/json", {"x-amzn-RequestId": call.request_id})
