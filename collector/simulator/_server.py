"""The aiohttp server: one port for STS, Organizations, EC2 and AppFlow.

A request is routed by the service named in its SigV4 credential scope. Requests without a
usable Authorization header are routed by their shape (target header, path, form body)
only to answer them with that service's MissingAuthenticationToken error.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from aiohttp import web

from ._appflow import handle_appflow, operation_paths
from ._auth import Identity, missing_authentication_error, parse_authorization
from ._context import Call, ServerState
from ._control import handle_control
from ._ec2 import handle_ec2
from ._governance import denial
from ._organizations import handle_organizations
from ._protocols import (
    APPFLOW,
    EC2,
    ORGANIZATIONS,
    STS,
    DropConnection,
    Reply,
    SimError,
    error_reply,
    fault_error,
)
from ._stats import DROPPED
from ._sts import handle_sts

STATE_KEY = web.AppKey("state", ServerState)

ServiceHandler = Callable[[ServerState, Call, Identity], Reply | Awaitable[Reply]]

HANDLERS: dict[str, ServiceHandler] = {
    STS: handle_sts,
    ORGANIZATIONS: handle_organizations,
    EC2: handle_ec2,
    APPFLOW: handle_appflow,
}

_APPFLOW_PATHS = operation_paths()
_QUERY_VERSIONS = {"2011-06-15": STS, "2016-11-15": EC2}


def _sniff_service(request: web.Request, form: dict[str, str]) -> str:
    """Guess the service of an unsigned request, to answer in its error format."""
    if request.headers.get("X-Amz-Target", "").startswith("AWSOrganizations"):
        return ORGANIZATIONS
    return _QUERY_VERSIONS.get(form.get("Version", ""), APPFLOW)


def _operation(service: str, request: web.Request, form: dict[str, str]) -> str:
    if service in (STS, EC2):
        return form.get("Action", "")
    if service == ORGANIZATIONS:
        return request.headers.get("X-Amz-Target", "").partition(".")[2]
    return _APPFLOW_PATHS.get(request.path, request.path)


def _form(request: web.Request, body: bytes) -> dict[str, str]:
    if not request.content_type.startswith("application/x-www-form-urlencoded"):
        return {}
    return dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))


def _build_call(request: web.Request, body: bytes) -> tuple[Call, bool]:
    """The call, and whether it carried a usable SigV4 Authorization header."""
    scope = parse_authorization(request.headers.get("Authorization", ""))
    form = _form(request, body)
    service = scope.service if scope else _sniff_service(request, form)
    call = Call(
        service=service,
        operation=_operation(service, request, form),
        region=scope.region if scope else "",
        access_key=scope.access_key if scope else None,
        session_token=request.headers.get("X-Amz-Security-Token"),
        body=body,
        request_id=str(uuid.uuid4()),
        form=form,
    )
    return call, scope is not None


async def _dispatch(state: ServerState, call: Call, signed: bool) -> Reply:
    handler = HANDLERS.get(call.service)
    if not signed or call.access_key is None:
        raise missing_authentication_error(call.service)
    if handler is None:
        raise SimError("UnknownServiceException", f"{call.service} is not simulated", 400)
    _burst(state, call)
    identity = state.credentials.identify(
        state.org, call.service, call.access_key, call.session_token, state.clock()
    )
    action = f"{call.service}:{call.operation}"
    guardrail = state.org.denying(identity.account_id, action, call.region)
    if guardrail is not None:
        raise denial(call.service, identity.arn, action, guardrail.resource_policy)
    _rate_limit(state, call, identity.account_id)
    reply = handler(state, call, identity)
    if inspect.isawaitable(reply):
        return await reply
    return reply


def _rate_limit(state: ServerState, call: Call, account_id: str) -> None:
    """Raise the service's throttling error if the account's bucket for the call is empty."""
    limits = state.faults.rate_limits
    key = next((k for k in (f"{call.service}:{call.operation}", call.service) if k in limits), None)
    if key is None:
        return
    rate, burst = limits[key]
    now = state.clock()
    tokens, then = state.buckets.get((account_id, key), (burst, now))
    tokens = min(burst, tokens + (now - then) * rate)
    if tokens < 1:
        state.buckets[(account_id, key)] = (tokens, now)
        raise fault_error(call.service, "throttle", None)
    state.buckets[(account_id, key)] = (tokens - 1, now)


def _burst(state: ServerState, call: Call) -> None:
    """Raise the service's error if a burst of faults covers this call."""
    bursts = state.faults.bursts
    burst = bursts.get(f"{call.service}:{call.operation}") or bursts.get(call.service)
    if burst is not None and burst.hit(state.clock()):
        raise fault_error(call.service, burst.kind, burst.retry_after)


def _response(reply: Reply) -> web.Response:
    response = web.Response(
        body=reply.body, status=reply.status, content_type=reply.content_type.split(";")[0]
    )
    response.headers.update(reply.headers)
    return response


def _may_control(state: ServerState, request: web.Request) -> bool:
    """Whether a `/_sim` request may run: always on loopback, with the token otherwise."""
    if state.control_token is None:
        return True
    given = request.headers.get("X-Sim-Token", "")
    return hmac.compare_digest(given.encode(), state.control_token.encode())


def _drop(request: web.Request) -> web.Response:
    # Abort the socket so the client sees the connection close without any answer.
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)


async def handle_request(request: web.Request) -> web.StreamResponse:
    """The one aiohttp handler behind every path."""
    state = request.app[STATE_KEY]
    body = await request.read()
    if request.path.startswith("/_sim/") and "Authorization" not in request.headers:
        if not _may_control(state, request):
            refused = b'{"error": "X-Sim-Token missing or wrong"}'
            return _response(Reply(403, refused, "application/json"))
        return _response(handle_control(state, request.method, request.path, body))
    call, signed = _build_call(request, body)
    delay = state.faults.delay()
    if delay:
        await asyncio.sleep(delay)
    try:
        reply = await _dispatch(state, call, signed)
    except DropConnection:
        state.stats.record(call.service, call.operation, DROPPED, call.scope)
        return _drop(request)
    except SimError as err:
        reply = error_reply(call.service, err, call.request_id)
    state.stats.record(call.service, call.operation, reply.status, call.scope)
    if reply.stream is not None:
        return await _stream(request, reply)
    return _response(reply)


async def _stream(request: web.Request, reply: Reply) -> web.StreamResponse:
    """Send a body given as chunks, chunked or with its length declared up front."""
    assert reply.stream is not None
    response = web.StreamResponse(status=reply.status, headers=reply.headers)
    response.content_type = reply.content_type
    if reply.stream_length is None:
        response.enable_chunked_encoding()
    else:
        response.content_length = reply.stream_length
    await response.prepare(request)
    try:
        for chunk in reply.stream:
            await response.write(chunk)
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        pass  # the client stopped reading: what a bounded client should do
    return response


def build_app(state: ServerState) -> web.Application:
    """The aiohttp application serving `state`."""
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[STATE_KEY] = state
    app.router.add_route("*", "/{tail:.*}", handle_request)
    return app


async def start_server(state: ServerState, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving on the running loop; returns the runner and the bound port."""
    runner = web.AppRunner(
        build_app(state), access_log=None, handler_cancellation=True, shutdown_timeout=1.0
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    bound = runner.addresses[0][1]
    return runner, int(bound)
