"""Page through `ListFlows` for one (account, region) scope, and describe what changed.

`ListFlows` gives each flow's definition; only `DescribeFlow` names the connector profiles a
flow uses. A flow is described only when it is new or its definition (its `lastUpdatedAt`,
status, tags, ...) differs from the one stored, so a rerun over an unchanged fleet costs one
`ListFlows` page per scope and no call per flow. Paging is `paging`'s, as for profiles:
a failed page is retried with its own token, never from page one, within the same bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from .._errors import AwsError, ErrorKind
from .._model.flows import (
    FlowDataError,
    KnownFlow,
    definition_hash,
    flow_key,
    normalize_flow,
    sighted_flow,
)
from .._model.scopes import Listing, Scope, ScopeStatus
from .body import json_body, page_items
from .paging import PAGE_SIZE, follow_pages
from .retry import Attempts, RetryPolicy, call_with_retries

# A flow deleted between `ListFlows` and `DescribeFlow`.
VANISHED = "ResourceNotFoundException"


async def list_flows(
    client: Any, scope: Scope, known: Mapping[str, KnownFlow], policy: RetryPolicy
) -> Listing:
    """List one scope's flows completely, or say why not. Never raises for AWS or data errors.

    `known` maps the ARN of every live flow stored for the run's accounts to its digests. A
    flow that vanished before it could be described is left out, and the listing is then
    incomplete: nothing is marked deleted from it.
    """
    listing = Listing()
    counter = Attempts()
    definitions: dict[str, dict[str, Any]] = {}
    vanished = False
    try:
        try:
            await _list_pages(client, policy, counter, listing, definitions)
        except AwsError:
            # What was listed and is known unchanged costs no call: keep its sighting.
            _sighted(scope, definitions, known, listing)
            raise
        vanished = await _described(client, scope, definitions, known, policy, counter, listing)
    except AwsError as error:
        listing.status = ScopeStatus.FAILED
        listing.error_code = error.kind.value
        listing.aws_error_code = error.code
        listing.error_message = error.message or error.code
    listing.attempts = counter.attempts
    listing.retries = counter.retries
    listing.complete = listing.status is ScopeStatus.SUCCEEDED and not vanished
    return listing


async def _list_pages(
    client: Any,
    policy: RetryPolicy,
    counter: Attempts,
    listing: Listing,
    definitions: dict[str, dict[str, Any]],
) -> None:
    def keyed(flows: list[dict[str, Any]]) -> None:
        bad_data: list[str] = []
        for definition in flows:
            try:
                arn, _ = flow_key(definition)
            except FlowDataError as error:
                bad_data.append(str(error))
                continue
            definitions.pop(arn, None)  # a repeated flow counts once, at its last sighting
            definitions[arn] = definition
        if bad_data:
            raise AwsError(ErrorKind.INVALID_RESPONSE, "InvalidFlowData", "; ".join(bad_data))

    fetch = partial(_fetch_page, client)
    params: dict[str, Any] = {"maxResults": PAGE_SIZE}
    await follow_pages(
        fetch, params, policy, counter, listing, keyed, items="flows", too_many="TooManyFlows"
    )


def _unchanged(arn: str, definition: dict[str, Any], known: Mapping[str, KnownFlow]) -> bool:
    stored = known.get(arn)
    return stored is not None and stored.definition_hash == definition_hash(definition)


def _sighted(
    scope: Scope,
    definitions: dict[str, dict[str, Any]],
    known: Mapping[str, KnownFlow],
    listing: Listing,
) -> None:
    for arn, definition in definitions.items():
        if _unchanged(arn, definition, known):
            listing.records.append(
                sighted_flow(definition, scope.account_id, scope.region, known[arn].content_hash)
            )


async def _described(
    client: Any,
    scope: Scope,
    definitions: dict[str, dict[str, Any]],
    known: Mapping[str, KnownFlow],
    policy: RetryPolicy,
    counter: Attempts,
    listing: Listing,
) -> bool:
    """Add every listed flow to `listing`, describing the new and changed ones; return
    whether a flow vanished before it could be described."""
    vanished = False
    bad_data: list[str] = []
    for arn, definition in definitions.items():
        if _unchanged(arn, definition, known):
            record = sighted_flow(
                definition, scope.account_id, scope.region, known[arn].content_hash
            )
            listing.records.append(record)
            continue
        _, name = flow_key(definition)
        try:
            description = await call_with_retries(partial(_describe, client, name), policy, counter)
        except AwsError as error:
            if error.code != VANISHED:
                raise
            vanished = True
            continue
        try:
            listing.records.append(
                normalize_flow(definition, description, scope.account_id, scope.region)
            )
        except FlowDataError as error:
            bad_data.append(str(error))
    if bad_data:
        raise AwsError(ErrorKind.INVALID_RESPONSE, "InvalidFlowData", "; ".join(bad_data))
    return vanished


async def _fetch_page(
    client: Any, request: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    # Decoding is part of the attempt: a garbled body is retried like a 500.
    return page_items(json_body(await client.list_flows(**request)), "flows")


async def _describe(client: Any, name: str) -> dict[str, Any]:
    return json_body(await client.describe_flow(flowName=name))
