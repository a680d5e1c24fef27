"""AppFlow (rest-json): DescribeConnectorProfiles, ListFlows and DescribeFlow, with request
validation and faults.

This is the hot path of a benchmark: pages come serialized from the cache, and the answer
is assembled from bytes around them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from ._auth import Identity, invalid_token_error
from ._catalog import APPFLOW_REGIONS, DEFAULT_REGIONS
from ._context import Call, ServerState
from ._flow_api import describe_flow, list_flows
from ._listing import (
    TOKEN,
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
from ._pages import ProfileFilter
from ._protocols import APPFLOW, DropConnection, Reply, SimError, appflow_error

_APPFLOW_REGIONS = frozenset(APPFLOW_REGIONS)
_DEFAULT_REGIONS = frozenset(DEFAULT_REGIONS)
_NAME = re.compile(r"[\w/!@#+=.-]+", re.ASCII)
_LABEL = re.compile(r"[a-zA-Z0-9][\w!@#.-]+", re.ASCII)

_FAILURE_MESSAGES = {
    "InternalServerException": "An internal service error occurred.",
    "ThrottlingException": "Rate exceeded",
    "ServiceUnavailableException": "Service is unavailable, please try again later.",
}


def _check_names(names: object, problems: list[str]) -> tuple[str, ...] | None:
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        problems.append(violation("connectorProfileNames", names, "be a list of strings"))
        return None
    if len(names) > 100:
        problems.append(
            violation("connectorProfileNames", names, "have length less than or equal to 100")
        )
    for name in names:
        if len(name) > 256 or _NAME.fullmatch(name) is None:
            problems.append(
                violation(
                    "connectorProfileNames.member",
                    name,
                    r"satisfy regular expression pattern: [\w/!@#+=.-]+",
                )
            )
    return tuple(sorted(set(names)))


def parse_request(body: bytes, known_types: set[str]) -> tuple[ProfileFilter, int, str | None]:
    """(filter, maxResults, nextToken) of a request; ValidationException if invalid."""
    params = request_params(body)
    problems: list[str] = []
    names = _check_names(params.get("connectorProfileNames"), problems)
    size = check_max_results(params.get("maxResults"), problems)
    connector_type = params.get("connectorType")
    if connector_type is not None and connector_type not in known_types:
        problems.append(violation("connectorType", connector_type, "satisfy enum value set"))
    label = check_string("connectorLabel", params.get("connectorLabel"), _LABEL, 256, problems)
    token = check_string("nextToken", params.get("nextToken"), TOKEN, 2048, problems)
    if problems:
        raise validation_error(problems)
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


def _inject_errors(state: ServerState, key: ScopeKey, identity: Identity, operation: str) -> None:
    faults = state.faults
    if faults.roll(faults.drop_rate):
        raise DropConnection
    code = faults.failing_scopes.get(key)
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


async def _describe_connector_profiles(state: ServerState, call: Call, key: ScopeKey) -> Reply:
    selection, size, token = parse_request(call.body, state.org.known_connector_types())
    binding = f"{key[0]}|{key[1]}|{selection.binding()}"
    faulty = paging_faults(state, call.operation)
    cursor = cursor_of(state, key, binding, token, faulty)
    faults = state.faults
    if key in faults.slow_scopes:
        await asyncio.sleep(faults.slow_seconds)
    size = min(size, state.org.short_page_sizes.get(key, size))
    if faulty and key in faults.overfull_page_scopes:
        size = len(state.org.profiles(*key)) + 1  # every profile, whatever maxResults says
    page = state.pages.page(key, selection, cursor.offset, size)
    return listing_reply(state, call.request_id, key, binding, token, cursor, page, faulty)


_OPERATIONS: dict[str, Operation] = {
    "DescribeConnectorProfiles": _describe_connector_profiles,
    "ListFlows": list_flows,
    "DescribeFlow": describe_flow,
}
