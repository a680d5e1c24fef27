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
  loading the CA bundle (about 15 ms of CPU) in a thread, per client. Shared by the runs of
  a process too (a program embedding the collector, `collector demo`, the test suite), for
  as long as the files it was built from are unchanged.
- botocore's built-in event handlers registered once per process (`new_session`): each new
  session would register all of them again, checking each with `inspect`.
"""

from __future__ import annotations

import copy
import functools
import os
import ssl
import threading
from importlib import metadata
from typing import Any

import aiobotocore
import botocore
from aiobotocore.hooks import AioHierarchicalEmitter
from aiobotocore.parsers import AioResponseParserFactory
from aiobotocore.session import AioSession
from botocore.httpsession import get_cert_path

from .._model.resources import RESOURCES

RAW_BODY = "CollectorRawBody"
# Output shapes of the operations whose successful answers the collector reads raw: every
# resource's listing and detail call.
RAW_OUTPUT_SHAPES = frozenset(
    f"{operation}Response"
    for resource in RESOURCES
    for operation in (
        resource.api.operation,
        *(() if resource.api.describe is None else (resource.api.describe.operation,)),
    )
)


@functools.cache
def _builtin_handlers() -> AioHierarchicalEmitter:
    """An event emitter holding botocore's built-in handlers, and nothing else."""
    emitter = AioHierarchicalEmitter()
    AioSession(event_hooks=emitter)  # registers them into `emitter`
    return emitter


def new_session() -> AioSession:
    """An aiobotocore session as `AioSession()` makes it, its built-in event handlers copied
    from the ones registered once per process, as botocore copies a session's handlers into
    each client (registering them costs a session about 6 ms of CPU)."""
    return AioSession(event_hooks=copy.copy(_builtin_handlers()), include_builtin_handlers=False)


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


SslContexts = tuple[ssl.SSLContext, ssl.SSLContext | None]
# The contexts built so far, by what they were built from; the oldest goes past this many
# (a process sees a handful of settings at most; the bound is for one that loops over many).
_SSL_CONTEXTS: dict[tuple[Any, ...], SslContexts] = {}
_SSL_CONTEXTS_KEPT = 8
_SSL_LOCK = threading.Lock()


def _file_identity(value: Any) -> Any:
    """A setting that names a file, with what changes when the file is replaced or edited
    (a rotated CA bundle gets a new context); other settings as they are."""
    if not isinstance(value, str):
        return value
    try:
        found = os.stat(value)
    except OSError:
        return value  # building the context reports it
    return (value, found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)


def _ssl_key(session: Any, proxy_url: str | None) -> tuple[Any, ...]:
    """Everything aiobotocore builds an HTTP session's SSL contexts from."""
    proxy = session._proxy_config.settings if proxy_url else {}
    proxy_cert = proxy.get("proxy_client_cert")
    return (
        session._verify,
        _file_identity(get_cert_path(session._verify) if session._verify else None),
        _file_identity(session._cert_file),
        _file_identity(session._key_file),
        proxy_url,
        _file_identity(proxy.get("proxy_ca_bundle")),
        tuple(map(_file_identity, proxy_cert))
        if isinstance(proxy_cert, tuple)
        else _file_identity(proxy_cert),
    )


def sharing_ssl_contexts(session_cls: type[Any]) -> type[Any]:
    """A subclass of an aiobotocore HTTP session class whose instances share their SSL
    contexts, within a run and across the runs of a process: each client's session would
    otherwise build its own, loading the CA bundle in a thread."""

    def _build_ssl_contexts(self: Any, proxy_url: str | None) -> SslContexts:
        key = _ssl_key(self, proxy_url)
        with _SSL_LOCK:
            found = _SSL_CONTEXTS.get(key)
        if found is not None:
            return found
        built: SslContexts = session_cls._build_ssl_contexts(self, proxy_url)
        with _SSL_LOCK:
            found = _SSL_CONTEXTS.setdefault(key, built)
            while len(_SSL_CONTEXTS) > _SSL_CONTEXTS_KEPT:
                del _SSL_CONTEXTS[next(iter(_SSL_CONTEXTS))]
        return found

    members = {"_build_ssl_contexts": _build_ssl_contexts}
    return type(f"Shared{session_cls.__name__}", (session_cls,), members)
