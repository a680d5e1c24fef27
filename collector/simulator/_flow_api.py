"""AppFlow ListFlows and DescribeFlow (rest-json), as botocore's `appflow` model describes them.

`ListFlows` (`POST /list-flows`, `maxResults` 1..100, `nextToken`) answers `flows`, a page of
`FlowDefinition`s, and `nextToken`; `DescribeFlow` (`POST /describe-flow`, `flowName`)
answers one flow, or `ResourceNotFoundException` (404). The same faults as the profile
listing apply: rates and failing scopes to every call, the paging faults to `ListFlows` when
`Faults.paging_fault_operations` names it.
"""

from __future__ import annotations

import asyncio
import json
import re

from ._context import Call, ServerState
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
from ._model import ScopeKey, flow_definition, flow_description
from ._pages import Page
from ._protocols import Reply, appflow_error

# FlowName: [a-zA-Z0-9][\w!@#.-]+, at most 256 characters.
_FLOW_NAME = re.compile(r"[a-zA-Z0-9][\w!@#.-]+", re.ASCII)
_LIST_KEY = b"flows"
_DEFAULT_FLOW_PAGE = 100


def _flow_page(state: ServerState, key: ScopeKey, offset: int, size: int) -> Page:
    """A page of flow definitions, serialized once per version of the scope."""
    version, flows = state.org.flow_snapshot(key)
    cache_key = (key, offset, size)
    cached = state.flow_pages.get(cache_key)
    if cached is not None and cached[0] == version:
        return cached[1]
    chunk = flows[offset : offset + size]
    end = offset + len(chunk)
    page = Page(
        items=json.dumps([flow_definition(f) for f in chunk], separators=(",", ":")).encode(),
        count=len(chunk),
        next_offset=end if end < len(flows) else None,
    )
    state.flow_pages[cache_key] = (version, page)
    return page


async def list_flows(state: ServerState, call: Call, key: ScopeKey) -> Reply:
    """Answer `ListFlows`: one page of the scope's flow definitions."""
    params = request_params(call.body)
    problems: list[str] = []
    size = check_max_results(params.get("maxResults"), problems, _DEFAULT_FLOW_PAGE)
    token = check_string("nextToken", params.get("nextToken"), TOKEN, 2048, problems)
    if problems:
        raise validation_error(problems)
    binding = f"{key[0]}|{key[1]}|flows"
    faulty = paging_faults(state, call.operation)
    cursor = cursor_of(state, key, binding, token, faulty)
    faults = state.faults
    if key in faults.slow_scopes:
        await asyncio.sleep(faults.slow_seconds)
    if faulty and key in faults.overfull_page_scopes:
        size = len(state.org.flow_snapshot(key)[1]) + 1  # every flow, whatever maxResults says
    page = _flow_page(state, key, cursor.offset, size)
    return listing_reply(
        state, call.request_id, key, binding, token, cursor, page, faulty, _LIST_KEY
    )


async def describe_flow(state: ServerState, call: Call, key: ScopeKey) -> Reply:
    """Answer `DescribeFlow`: one flow of the scope, by name."""
    params = request_params(call.body)
    name = params.get("flowName")
    problems: list[str] = []
    if name is None:
        problems.append(violation("flowName", "null", "not be null"))
    else:
        name = check_string("flowName", name, _FLOW_NAME, 256, problems)
    if problems or name is None:
        raise validation_error(problems)
    faults = state.faults
    if key in faults.slow_scopes:
        await asyncio.sleep(faults.slow_seconds)
    flow = state.org.flow(key[0], key[1], name)
    if flow is None or flow.get("flowArn") in faults.vanishing_flows:
        raise appflow_error(
            "ResourceNotFoundException", f"No flow named {name} exists in this account and region"
        )
    body = json.dumps(flow_description(flow), separators=(",", ":")).encode()
    if faults.roll(faults.malformed_json_rate):
        body = body[: len(body) // 2]
    return Reply(200, body, "application/json", {"x-amzn-RequestId": call.request_id})
