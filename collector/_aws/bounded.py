"""An HTTP session that refuses response bodies above `MAX_BODY_BYTES` before reading them.

aiobotocore reads every non-streaming body whole. A hostile or broken endpoint could send
hundreds of megabytes for one page, so this session, plugged in through the supported
`AioConfig(http_session_cls=...)`, checks `Content-Length` first and caps the streamed read
(for chunked bodies) instead: nothing beyond the bound is ever held in memory.
"""

from __future__ import annotations

from typing import Any

from aiobotocore.awsrequest import AioAWSResponse
from aiobotocore.httpsession import AIOHTTPSession

# A page of 100 profiles is a few hundred kilobytes; this leaves room for profiles far
# larger than any seen, and bounds what one response can cost.
MAX_BODY_BYTES = 10 * 1024 * 1024
_CHUNK = 256 * 1024


class ResponseTooLarge(Exception):
    """A response body above `MAX_BODY_BYTES`; translated to `invalid_response`."""


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
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raw.close()
            raise ResponseTooLarge(f"the response declares {int(length)} bytes (limit {limit})")
        chunks: list[bytes] = []
        size = 0
        async for chunk in raw.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > limit:
                raw.close()
                raise ResponseTooLarge(f"the response is larger than {limit} bytes")
            chunks.append(chunk)
        return AioAWSResponse(
            response.url, response.status_code, response.headers, _ReadBody(b"".join(chunks))
        )
