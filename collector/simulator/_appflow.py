"""AppFlow (rest-json): every kind's listing and detail call, with request validation and
faults, answered by two generic handlers from each kind's `ListOperation` and
`DescribeOperation`.

This is the hot path of a benchmark: pages come serialized from the cache, and the answer
is assembled from bytes around them.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from functools import partial

from ._auth import Identity, invalid_token_error
from ._catalog import APPFLOW_REGIONS, DEFAULT_REGIONS
from ._context import Call, ServerState
from ._governance import missing_permission
from ._kinds import KINDS
from ._listing import (
    TOKEN,
    DescribeOperation,
    ListOperation,
    PageRequest,
    check_max_results,
    check_string,
    cursor_of,
    listing_reply,
    paging_faults,
    request_params,
    validation_error,
    violation,
)
from ._model import ScopeKey
from ._protocols import APPFLOW, DropConnection, Reply, SimError, appflow_error

APIS: tuple[ListOperation | DescribeOperation, ...] = tuple(
    api for spec in KINDS for api in spec.api
)
"""Every AppFlow operation the simulator answers, by kind."""

_APPFLOW_REGIONS = frozenset(APPFLOW_REGIONS)
_DEFAULT_REGIONS = frozenset(DEFAULT_REGIONS)

_FAILURE_MESSAGES = {
    "InternalServerException": "An internal service error occurred.",
    "ThrottlingException": "Rate exceeded",
    "ServiceUnavailableException": "Service is unavailable, please try again later.",
}


def _check_reachable(state: ServerState, key: ScopeKey) -> None:
    account_id, region = key
    if region not in _APPFLOW_REGIONS and region not in state.org.regions:
        # No AppFlow endpoint there (an organization may name a region newer than the
        # SDK's data): the closest a server gets to a name that does not resolve.
        raise DropConnection
    if region in _DEFAULT_REGIONS:
        return
    account = state.org.accounts.get(account_id)
    if account is None or region not in account.enabled_opt_in_regions:
        # What AWS answers in an opt-in region the account has not enabled.
        raise invalid_token_error(APPFLOW)


def _inject_errors(state: ServerState, key: ScopeKey, identity: Identity, operation: str) -> None:
    faults = state.faults
    if faults.roll(faults.drop_rate):
        raise DropConnection
    code = faults.failing_scopes.get(key)
    if code == "AccessDeniedException":
        raise missing_permission(APPFLOW, identity.arn, f"appflow:{operation}")
    if code is not None:
        message = _FAILURE_MESSAGES.get(code) or (
            f"User: {identity.arn} is not authorized to perform: appflow:{operation} ({code})"
        )
        raise appflow_error(code, message)
    if faults.roll(faults.error_rate_429):
        raise appflow_error("ThrottlingException", _FAILURE_MESSAGES["ThrottlingException"])
    if faults.roll(faults.error_rate_500):
        raise appflow_error("InternalServerException", _FAILURE_MESSAGES["InternalServerException"])


Operation = Callable[[ServerState, Call, ScopeKey], Awaitable[Reply]]


async def handle_appflow(state: ServerState, call: Call, identity: Identity) -> Reply:
    """Answer one AppFlow call."""
    operation = _OPERATIONS.get(call.operation)
    if operation is None:
        raise SimError("UnknownOperationException", "Unknown operation", 404)
    key = (identity.account_id, call.region)
    call.scope = key
    _check_reachable(state, key)
    _inject_errors(state, key, identity, call.operation)
    return await operation(state, call, key)


async def _list(listing: ListOperation, state: ServerState, call: Call, key: ScopeKey) -> Reply:
    """One page of a kind's listing in a scope."""
    params = request_params(call.body)
    problems: list[str] = []
    selection = listing.select(params, state, problems)
    size = check_max_results(params.get("maxResults"), problems, listing.default_page)
    token = check_string("nextToken", params.get("nextToken"), TOKEN, 2048, problems)
    if problems:
        raise validation_error(problems)
    binding = f"{key[0]}|{key[1]}|{listing.operation}|{selection.binding()}"
    faulty = paging_faults(state, call.operation)
    cursor = cursor_of(state, key, binding, token, faulty)
    faults = state.faults
    if key in faults.slow_scopes:
        await asyncio.sleep(faults.slow_seconds)
    if listing.short_pages:
        size = min(size, state.org.short_page_sizes.get(key, size))
    if faulty and key in faults.overfull_page_scopes:
        # Every item, whatever maxResults says.
        size = state.pages.count(listing.kind, key, selection) + 1
    page = state.pages.page(listing.kind, key, selection, (cursor.offset, size), listing.project)
    request = PageRequest(state, call.request_id, key, binding, token, cursor, faulty)
    return listing_reply(request, page, listing.items_key)


async def _describe(
    detail: DescribeOperation, state: ServerState, call: Call, key: ScopeKey
) -> Reply:
    """One item of a scope, by name."""
    params = request_params(call.body)
    problems: list[str] = []
    detail.check(params, problems)
    name = params.get(detail.name_field)
    if name is None:
        problems.append(violation(detail.name_field, "null", "not be null"))
    else:
        name = check_string(detail.name_field, name, detail.name_pattern, 256, problems)
    if problems or name is None:
        raise validation_error(problems)
    faults = state.faults
    if key in faults.slow_scopes:
        await asyncio.sleep(faults.slow_seconds)
    item = state.org.item(detail.kind, key[0], key[1], name)
    if item is None or item.get(detail.kind.arn_key) in faults.vanishing:
        raise appflow_error(
            "ResourceNotFoundException",
            f"No {detail.kind.name[:-1]} named {name} exists in this account and region",
        )
    body = json.dumps(detail.project(item), separators=(",", ":")).encode()
    if faults.roll(faults.malformed_json_rate):
        body = body[: len(body) // 2]
    return Reply(200, body, "application/json", {"x-amzn-RequestId": call.request_id})


def _handler(api: ListOperation | DescribeOperation) -> Operation:
    if isinstance(api, ListOperation):
        return partial(_list, api)
    return partial(_describe, api)


_OPERATIONS: dict[str, Operation] = {api.operation: _handler(api) for api in APIS}


def operation_paths() -> dict[str, str]:
    """The request path of each AppFlow operation (`/list-flows` for `ListFlows`)."""
    return {
        "/" + re.sub(r"(?<!^)(?=[A-Z])", "-", api.operation).lower(): api.operation for api in APIS
    }
