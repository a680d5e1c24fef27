"""Listing one resource in one (account, region) scope, as its `Resource` descriptor says.

Whole records (`DescribeConnectorProfiles`) are normalized page by page. Summaries
(`ListFlows`, `ListConnectors`) are gathered first; then each one whose summary the store
already holds unchanged is a `Sighting`, costing no call, and the others are described one
by one, so a rerun over an unchanged fleet costs one page per scope. A record gone between
its listing and its description is left out, and the listing is then incomplete.

Paging is `paging`'s: a failed page is retried with its own token, never from page one.
Every AWS or data error ends the listing as `Listing.failed`, keeping what it listed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from .._errors import AwsError, ErrorKind
from .._model.resource import Describe, Known, ListingFilter, Resource, Sighting, stale
from .._model.scopes import Listing, Scope, ScopeStatus
from .._model.wire import UnstorableRecord
from .body import json_body, page_items
from .paging import Pager
from .retry import Attempts, RetryPolicy, call_with_retries
from .sent import checked_method

KnownRecords = Mapping[tuple[str, str, str], Known]
"""(account id, region, key) -> what the store holds of a live record listed as a summary."""


@dataclass(frozen=True, slots=True)
class ListingPlan:
    """How a run lists one resource in each scope, prepared once per run."""

    resource: Resource
    policy: RetryPolicy
    selection: ListingFilter = field(default_factory=ListingFilter)
    """The targeted refresh's filters (for a `filterable` resource)."""
    known: KnownRecords = field(default_factory=dict)
    now: datetime | None = None
    """When the run started: a description older than `describe_max_age` then is stale."""
    describe_max_age: float = 86400.0

    @property
    def filtered(self) -> bool:
        return self.resource.api.filterable and self.selection.active


async def list_resource(client: Any, scope: Scope, plan: ListingPlan) -> Listing:
    """List one resource of one scope completely, or say why not. Never raises for AWS or
    data errors."""
    listing = Listing()
    counter = Attempts()
    run = _ScopeListing(client, scope, plan, counter, listing)
    vanished = False
    try:
        vanished = await run.list_all()
    except AwsError as error:
        listing = listing.failed(error)
    listing.attempts = counter.attempts
    listing.retries = counter.retries
    listing.complete = (
        listing.status is ScopeStatus.SUCCEEDED and not plan.filtered and not vanished
    )
    return listing


@dataclass(slots=True)
class _ScopeListing:
    client: Any
    scope: Scope
    plan: ListingPlan
    counter: Attempts
    listing: Listing
    summaries: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def resource(self) -> Resource:
        return self.plan.resource

    async def list_all(self) -> bool:
        """List every page (and describe what changed); return whether a record vanished
        before it could be described."""
        api = self.resource.api
        on_page = self._normalized if api.describe is None else self._gathered
        try:
            for params in api.listing_requests(self.plan.selection):
                await self._pages(params, on_page)
        except AwsError:
            # What was listed and is known unchanged costs no call: keep its sighting.
            if api.describe is not None:
                self._sightings(api.describe)
            raise
        if api.describe is None:
            return False
        return await self._described(api.describe)

    async def _pages(
        self, params: dict[str, Any], on_page: Callable[[list[dict[str, Any]]], None]
    ) -> None:
        api = self.resource.api
        fetch = partial(_fetch_page, _method(self.client, api.operation), api.items)
        noun = self.resource.singular.title()
        pager = Pager(
            self.plan.policy, self.counter, self.listing, self.resource.title, f"TooMany{noun}s"
        )
        # A restart lists this request's items again: what it handed over is forgotten.
        kept = len(self.listing.records)

        def forget() -> None:
            del self.listing.records[kept:]
            self.summaries.clear()

        await pager.follow(fetch, params, on_page, forget)

    def _normalized(self, items: list[dict[str, Any]]) -> None:
        bad_data: list[str] = []
        for item in items:
            try:
                self.listing.records.append(self._normalize(item, None))
            except UnstorableRecord as error:
                bad_data.append(str(error))
        self._refuse(bad_data)

    def _gathered(self, summaries: list[dict[str, Any]]) -> None:
        describe = self.resource.api.describe
        assert describe is not None
        bad_data: list[str] = []
        for summary in summaries:
            try:
                key = describe.key(summary)
            except UnstorableRecord as error:
                bad_data.append(str(error))
                continue
            # A repeated record counts once, at its last sighting.
            self.summaries.pop(key, None)
            self.summaries[key] = summary
        self._refuse(bad_data)

    def _known(self, describe: Describe, key: str, summary: Mapping[str, Any]) -> Known | None:
        """What the store holds of this record, if its summary is the stored one."""
        plan = self.plan
        stored = plan.known.get((self.scope.account_id, self.scope.region, key))
        if stored is None or stored.summary_hash != describe.summary_hash(summary):
            return None
        if plan.now is not None and stale(stored, stored.arn, plan.now, plan.describe_max_age):
            return None
        return stored

    def _sighting(self, describe: Describe, known: Known, summary: Mapping[str, Any]) -> Sighting:
        scope = self.scope
        seen = describe.seen(summary)
        return Sighting(known.arn, scope.account_id, scope.region, known.content_hash, seen)

    def _sightings(self, describe: Describe) -> None:
        for key, summary in self.summaries.items():
            known = self._known(describe, key, summary)
            if known is not None:
                self.listing.records.append(self._sighting(describe, known, summary))

    async def _described(self, describe: Describe) -> bool:
        """Add every listed record, describing the new and changed ones; return whether one
        vanished before it could be described."""
        vanished = False
        bad_data: list[str] = []
        method = _method(self.client, describe.operation)
        for key, summary in self.summaries.items():
            known = self._known(describe, key, summary)
            if known is not None:
                self.listing.records.append(self._sighting(describe, known, summary))
                continue
            call = partial(_fetch_detail, method, describe.request(summary), describe.answer)
            try:
                detail = await call_with_retries(call, self.plan.policy, self.counter)
            except AwsError as error:
                if error.code != describe.vanished:
                    raise
                vanished = True
                continue
            try:
                self.listing.records.append(self._normalize(summary, detail))
            except UnstorableRecord as error:
                bad_data.append(str(error))
        self._refuse(bad_data)
        return vanished

    def _normalize(self, item: Mapping[str, Any], detail: Mapping[str, Any] | None) -> Any:
        return self.resource.normalize(item, detail, self.scope.account_id, self.scope.region)

    def _refuse(self, bad_data: list[str]) -> None:
        if bad_data:
            code = f"Invalid{self.resource.singular.title()}Data"
            raise AwsError(ErrorKind.INVALID_RESPONSE, code, "; ".join(bad_data))


def _method(client: Any, operation: str) -> Any:
    """The client's method of an operation (`ListFlows` -> `client.list_flows`), with the
    collector's own check of each request (the AppFlow clients skip botocore's)."""
    return checked_method(client, operation)


async def _fetch_page(
    method: Any, items: str, request: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    # Decoding is part of the attempt: a garbled body is retried like a 500.
    return page_items(json_body(await method(**request)), items)


async def _fetch_detail(
    method: Any, request: dict[str, Any], answer: str | None
) -> Mapping[str, Any]:
    data = json_body(await method(**request))
    if answer is None:
        return data
    detail = data.get(answer)
    if not isinstance(detail, dict):
        raise AwsError(
            ErrorKind.INVALID_RESPONSE, "InvalidResponse", f"{answer} is not a JSON object"
        )
    return detail
