"""What the AppFlow operations share: how each kind's listing and detail call are
described, request checks, paging tokens, and answers assembled from a page's bytes, with
the paging faults (`Faults.paging_fault_operations`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ._context import ServerState
from ._model import Kind, ScopeKey
from ._pages import Everything, Item, Page, Projection, Selection, whole
from ._protocols import Reply, SimError, appflow_error
from ._tokens import Cursor

SelectionOf = Callable[[dict[str, Any], ServerState, list[str]], Selection]
"""(request parameters, server state, problems found) -> the selection a request asks for."""


def _everything(params: dict[str, Any], state: ServerState, problems: list[str]) -> Selection:
    return Everything()


@dataclass(frozen=True)
class ListOperation:
    """A paged listing of one kind (`ListFlows`): `maxResults` and `nextToken`, answered
    with a page of items under `items_key`."""

    operation: str
    kind: Kind
    items_key: bytes
    select: SelectionOf = _everything
    project: Projection = whole
    default_page: int = 100
    short_pages: bool = False
    """Whether `Organization.short_page_sizes` caps its pages."""


@dataclass(frozen=True)
class DescribeOperation:
    """The detail call of one kind (`DescribeFlow`): one item of the scope, by name, or
    ResourceNotFoundException."""

    operation: str
    kind: Kind
    name_field: str
    name_pattern: re.Pattern[str]
    project: Callable[[Item], Item]
    check: Callable[[dict[str, Any], list[str]], None] = lambda params, problems: None
    """Checks of the other request members."""


TOKEN = re.compile(r"\S+")
DEFAULT_PAGE = 20
_INVALID_TOKEN = "Invalid nextToken: it is malformed, expired, or from another request."


def request_params(body: bytes) -> dict[str, Any]:
    """A listing request's JSON object; SerializationException if it is not one."""
    try:
        params: Any = json.loads(body) if body else {}
    except ValueError as exc:
        raise SimError("SerializationException", "Malformed JSON request body", 400) from exc
    if not isinstance(params, dict):
        raise SimError("SerializationException", "Expected a JSON object", 400)
    return params


def violation(field: str, value: object, constraint: str) -> str:
    return f"Value '{value}' at '{field}' failed to satisfy constraint: Member must {constraint}"


def check_max_results(value: object, problems: list[str], default: int = DEFAULT_PAGE) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(violation("maxResults", value, "be an integer"))
        return default
    if value > 100:
        problems.append(violation("maxResults", value, "have value less than or equal to 100"))
    elif value < 1:
        problems.append(violation("maxResults", value, "have value greater than or equal to 1"))
    return value


def check_string(
    field: str, value: object, pattern: re.Pattern[str], limit: int, problems: list[str]
) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or pattern.fullmatch(value) is None:
        problems.append(
            violation(
                field,
                value,
                f"have length less than or equal to {limit} "
                f"and satisfy regular expression pattern: {pattern.pattern}",
            )
        )
        return None
    return value


def validation_error(problems: list[str]) -> SimError:
    """AppFlow's ValidationException listing every problem."""
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return appflow_error(
        "ValidationException", f"{count} validation {noun} detected: " + "; ".join(problems)
    )


def paging_faults(state: ServerState, operation: str) -> bool:
    """Whether the scope-keyed paging faults apply to this listing operation."""
    return operation in state.faults.paging_fault_operations


def cursor_of(
    state: ServerState, key: ScopeKey, binding: str, token: str | None, faulty: bool = True
) -> Cursor:
    """Where the request starts; ValidationException for a bad or fault-expired token."""
    cursor = Cursor(0, 1) if token is None else state.tokens.read(token, binding)
    faults = state.faults
    limit = faults.invalid_token_after_pages.get(key) if faulty else None
    if cursor is None or (limit is not None and cursor.page > limit):
        raise appflow_error("ValidationException", _INVALID_TOKEN)
    expiring = faults.expiring_token_scopes.get(key) if faulty else None
    if expiring is not None and cursor.page > expiring:
        del faults.expiring_token_scopes[key]
        raise appflow_error("ValidationException", _INVALID_TOKEN)
    return cursor


@dataclass(frozen=True)
class PageRequest:
    """One request of a listing: where it is in the listing, and whether the scope-keyed
    paging faults apply to it."""

    state: ServerState
    request_id: str
    key: ScopeKey
    binding: str
    """What its tokens are bound to: the scope, the operation and the selection."""
    token: str | None
    cursor: Cursor
    faulty: bool


def next_token_of(request: PageRequest, page: Page) -> str | None:
    """The token of the page after `page` (None: the last); the looping-token fault."""
    state, cursor = request.state, request.cursor
    repeat_from = state.faults.repeat_token_scopes.get(request.key) if request.faulty else None
    if repeat_from is not None and cursor.page >= repeat_from:
        # The looping-token fault: hand back the token that asked for this very page.
        return request.token or state.tokens.issue(request.binding, cursor)
    if page.next_offset is None:
        return None
    return state.tokens.issue(request.binding, Cursor(page.next_offset, cursor.page + 1))


def page_body(
    page: Page, next_token: str | None, omit_empty: bool, key: bytes = b"connectorProfileDetails"
) -> bytes:
    """A listing's answer: the page's items under `key`, and the next token."""
    # Assembled from bytes: the page is serialized once, tokens are URL-safe base64.
    if omit_empty and page.count == 0 and next_token is None:
        # The model does not require the list; an empty answer may leave it out.
        return b"{}"
    body = b'{"' + key + b'":' + page.items
    if next_token is not None:
        body += b',"nextToken":"' + next_token.encode() + b'"'
    return body + b"}"


def deep_body(page: Page, depth: int, key: bytes = b"connectorProfileDetails") -> bytes:
    """The page with `depth` nested arrays in its first item: hostile JSON."""
    nested = b"[" * depth + b"]" * depth
    items = page.items
    if items.startswith(b"[{"):
        items = b'[{"deep":' + nested + b"," + items[2:]
    else:
        items = b'[{"deep":' + nested + b"}]"
    return b'{"' + key + b'":' + items + b"}"


_PAD_CHUNK = b"a" * (256 * 1024)


def huge_reply(
    page: Page,
    padding: int,
    chunked: bool,
    request_id: str,
    key: bytes = b"connectorProfileDetails",
) -> Reply:
    """A valid page whose first item carries `padding` bytes, streamed in chunks."""
    head = b'{"' + key + b'":[{"padding":"'
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


def listing_reply(request: PageRequest, page: Page, list_key: bytes) -> Reply:
    """The answer to one listing request: the page, its next token, and the paging faults
    set for the scope (huge, list-less, deep and odd bodies), then a cut-short body at the
    malformed-JSON rate."""
    faults, key = request.state.faults, request.key
    faulty = request.faulty
    if faulty and key in faults.huge_body_scopes:
        padding = faults.huge_body_scopes[key]
        return huge_reply(page, padding, faults.chunked_bodies, request.request_id, list_key)
    next_token = next_token_of(request, page)
    body = page_body(page, next_token, faulty and key in faults.omit_empty_list_scopes, list_key)
    if faulty and key in faults.deep_json_scopes:
        body = deep_body(page, faults.deep_json_scopes[key], list_key)
    if faulty and key in faults.odd_body_scopes:
        body = faults.odd_body_scopes[key]
    if faults.roll(faults.malformed_json_rate):
        body = body[: len(body) // 2]
    return Reply(200, body, "application/json", {"x-amzn-RequestId": request.request_id})
