"""AppFlow answers read from the body as AWS sent it, within bounds.

botocore's parser drops members its model does not know and converts timestamps to local
time, so the listings decode the raw body themselves (`lean.raw_body`). Whatever the
operation, a body that is not a JSON object, holds NaN, or nests deeper than
`MAX_JSON_DEPTH` is `invalid_response`.
"""

from __future__ import annotations

import json
from typing import Any

from .._errors import AwsError, ErrorKind
from .lean import raw_body

# Profiles and flows nest a handful of levels; anything this deep is broken or hostile, and
# would exhaust the recursion of every JSON walker after it.
MAX_JSON_DEPTH = 64


def json_body(response: dict[str, Any]) -> dict[str, Any]:
    """The decoded JSON object of a successful AppFlow answer. Raises `AwsError`."""
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
    return data


def page_items(data: dict[str, Any], key: str) -> tuple[list[dict[str, Any]], str | None]:
    """The items (the list under `key`) and next token of one page.

    A page without the list is empty: no listing model marks it required.
    """
    items = data.get(key)
    if items is None:
        items = []
    token = data.get("nextToken") or None
    if not isinstance(items, list) or not all(isinstance(p, dict) for p in items):
        raise AwsError(
            ErrorKind.INVALID_RESPONSE,
            "InvalidResponse",
            f"{key} is not a list of objects",
        )
    if token is not None and not isinstance(token, str):
        raise AwsError(ErrorKind.INVALID_RESPONSE, "InvalidResponse", "nextToken is not a string")
    return items, token


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
