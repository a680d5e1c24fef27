"""An HTTP session that refuses response bodies above `MAX_BODY_BYTES` before reading them,
and charges every body to the budget of the scope it is read for.

aiobotocore reads every non-streaming body whole. A hostile or broken endpoint could send
hundreds of megabytes for one page, so this session, plugged in through the supported
`AioConfig(http_session_cls=...)`, checks `Content-Length` first and caps the streamed read
(for chunked bodies) instead: nothing beyond the bound is ever held in memory.

A scope keeps what it lists until it is written (every page of profiles, every flow
described), so one body's bound is not enough: the bodies read while a task lists a scope
are charged to that scope's `ByteBudget` (`charged_to`, a context variable: each task has
its own), and the read that goes over it raises `ScopeTooLarge`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiobotocore.awsrequest import AioAWSResponse
from aiobotocore.httpsession import AIOHTTPSession

# A page of 100 profiles is a few hundred kilobytes; this leaves room for profiles far
# larger than any seen, and bounds what one response can cost.
MAX_BODY_BYTES = 10 * 1024 * 1024
# A scope at the quotas (100 profiles, 1,000 flows of a few kilobytes each, described) reads
# a few megabytes; this leaves room for flows with hundreds of field mappings.
DEFAULT_SCOPE_BUDGET = 32 * 1024 * 1024
_CHUNK = 256 * 1024


class ResponseTooLarge(Exception):
    """A response body above `MAX_BODY_BYTES`; translated to `invalid_response`."""


class ScopeTooLarge(Exception):
    """The bodies read for one scope went over its budget; translated to `too_large`."""


class ByteBudget:
    """The response bytes one scope may read, all its listings and calls together."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def charge(self, size: int) -> None:
        """Count `size` more bytes; `ScopeTooLarge` if that goes over the limit."""
        self.used += size
        if self.used > self.limit:
            raise ScopeTooLarge(
                f"the scope's responses exceed its budget of {self.limit} bytes "
                "(--scope-budget-mib); nothing of it was written"
            )

    def check(self, declared: int) -> None:
        """`ScopeTooLarge` if a body of `declared` bytes could not fit, before reading it."""
        if self.used + declared > self.limit:
            self.charge(declared)


_budget: contextvars.ContextVar[ByteBudget | None] = contextvars.ContextVar(
    "collector_scope_budget", default=None
)


@contextmanager
def charged_to(budget: ByteBudget) -> Iterator[None]:
    """Charge the bodies this task reads in the block to `budget`."""
    token = _budget.set(budget)
    try:
        yield
    finally:
        _budget.reset(token)


class _ReadBody:
    """The already-read body, in the shape `AioAWSResponse` reads it from (`raw.read()`)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def read(self) -> bytes:
        return self._body


class BoundedHttpSession(AIOHTTPSession):  # type: ignore[misc]
    """aiobotocore's aiohttp session, with a bound on each response body."""

    max_body_bytes = MAX_BODY_BYTES

    async def send(self, request: Any) -> Any:
        if request.stream_output:
            return await super().send(request)
        # Ask for the body unread, then read it ourselves within the bound.
        request.stream_output = True
        try:
            response = await super().send(request)
        finally:
            request.stream_output = False
        raw = response.raw
        limit = self.max_body_bytes
        budget = _budget.get()
        length = response.headers.get("content-length", "")
        try:
            if length.isdigit() and int(length) > limit:
                raise ResponseTooLarge(f"the response declares {int(length)} bytes (limit {limit})")
            if length.isdigit() and budget is not None:
                budget.check(int(length))
            chunks: list[bytes] = []
            size = 0
            async for chunk in raw.content.iter_chunked(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ResponseTooLarge(f"the response is larger than {limit} bytes")
                if budget is not None:
                    budget.charge(len(chunk))
                chunks.append(chunk)
        except (ResponseTooLarge, ScopeTooLarge):
            raw.close()
            raise
        return AioAWSResponse(
            response.url, response.status_code, response.headers, _ReadBody(b"".join(chunks))
        )
