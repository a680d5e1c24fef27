"""Work botocore does on every call that the collector does not use, left out.

Measured on the fleet benchmark (docs/performance.md), per API call:
- botocore builds the User-Agent header twice per request from about twenty sanitized
  components; a fixed `user_agent` in the client config replaces that with one string.
- The answers the collector reads from the raw body (`RAW_OUTPUT_SHAPES`) would otherwise be
  parsed by botocore's model-driven parser and thrown away; `RawBodyParserFactory` hands
  back the body instead, for successful answers only (errors are parsed as usual).
- `credentials.ActingAccount` keeps an account's frozen credentials for a minute instead of
  checking the expiry (a `dateutil` local time) on every request.
- One SSL context for every client (`sharing_ssl_contexts`): aiobotocore would build one,
  loading the CA bundle in a thread, per client.
"""

from __future__ import annotations

import ssl
from importlib import metadata
from typing import Any

import aiobotocore
import botocore
from aiobotocore.parsers import AioResponseParserFactory

RAW_BODY = "CollectorRawBody"
# Output shapes of the operations whose successful answers the collector reads raw.
RAW_OUTPUT_SHAPES = frozenset(
    {"DescribeConnectorProfilesResponse", "ListFlowsResponse", "DescribeFlowResponse"}
)


def user_agent() -> str:
    """The User-Agent every request sends: the collector, then the SDK it speaks through."""
    try:
        version = metadata.version("appflow-inventory")
    except metadata.PackageNotFoundError:  # run from a checkout that is not installed
        version = "0"
    return (
        f"appflow-inventory/{version} aiobotocore/{aiobotocore.__version__} "
        f"botocore/{botocore.__version__}"
    )


class _RawOrParsed:
    """A protocol parser that returns the raw body of successful `RAW_OUTPUT_SHAPES` answers."""

    def __init__(self, parser: Any) -> None:
        self._parser = parser

    async def parse(self, response: dict[str, Any], shape: Any) -> Any:
        if shape is not None and shape.name in RAW_OUTPUT_SHAPES and response["status_code"] < 300:
            return {
                RAW_BODY: response["body"],
                "ResponseMetadata": {
                    "HTTPStatusCode": response["status_code"],
                    "HTTPHeaders": response["headers"],
                },
            }
        return await self._parser.parse(response, shape)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


class RawBodyParserFactory(AioResponseParserFactory):  # type: ignore[misc]
    """aiobotocore's parser factory, with `_RawOrParsed` around every parser."""

    def create_parser(self, protocol_name: str) -> Any:
        return _RawOrParsed(super().create_parser(protocol_name))


def raw_body(response: dict[str, Any]) -> bytes | None:
    """The undecoded body of a successful call whose answer the collector reads raw."""
    body = response.get(RAW_BODY)
    return bytes(body) if isinstance(body, bytes | bytearray) else None


def sharing_ssl_contexts(session_cls: type[Any]) -> type[Any]:
    """A subclass of an aiobotocore HTTP session class whose instances share their SSL
    contexts: each client's session would otherwise build its own, loading the CA bundle
    in a thread. One subclass per run, so a run's contexts go with it."""
    built: dict[tuple[Any, ...], tuple[ssl.SSLContext, ssl.SSLContext | None]] = {}

    def _build_ssl_contexts(
        self: Any, proxy_url: str | None
    ) -> tuple[ssl.SSLContext, ssl.SSLContext | None]:
        key = (self._verify, self._cert_file, self._key_file, proxy_url)
        if key not in built:
            built[key] = session_cls._build_ssl_contexts(self, proxy_url)
        return built[key]

    members = {"_build_ssl_contexts": _build_ssl_contexts}
    return type(f"Shared{session_cls.__name__}", (session_cls,), members)
