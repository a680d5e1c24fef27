"""What the inventory keeps of one AppFlow resource, as one descriptor. Pure.

A `Resource` says everything the generic code needs: how a scope is listed (`Api`: the
listing operation, and for resources listed as summaries, the detail call made only for new
or changed ones), how an answer becomes a `Record`, the tables its rows, history and child
rows live in, how its names link it to other resources (`Link`), and what the read side
shows. The listers, the writer, the readers, the run counts, the metrics and `--resources`
read it; the code specific to a resource is its normalization, in its own module under
`resources/`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from .wire import changed_paths


class Record(Protocol):
    """One resource as a scope listed it, normalized.

    `snapshot` is what its versions keep: None for a `Sighting`, a record the listing saw
    unchanged without describing it again (its stored version stays the current one).
    """

    @property
    def arn(self) -> str: ...

    @property
    def account_id(self) -> str: ...

    @property
    def region(self) -> str: ...

    @property
    def content_hash(self) -> str: ...

    @property
    def snapshot(self) -> dict[str, Any] | None: ...

    def row(self) -> dict[str, Any]:
        """The values of its table's own columns (not its ARN, scope or history)."""
        ...

    def seen(self) -> dict[str, Any]:
        """Columns refreshed on every sighting, changed or not (a flow's last run)."""
        ...

    def children(self) -> Mapping[str, Iterable[dict[str, Any]]]:
        """Rows of its child tables, by table name."""
        ...


@dataclass(frozen=True, slots=True)
class Known:
    """What the store holds of a live record listed as a summary: enough to tell whether
    the summary changed, and to record a sighting without describing it again."""

    arn: str
    summary_hash: str
    content_hash: str
    described_at: datetime | None = None


def stale(known: Known, key: str, now: datetime, max_age: float) -> bool:
    """Whether a record's description is old enough to be asked for again, although its
    summary is unchanged: older than `max_age` seconds, shortened by up to half by a
    fraction fixed per record, so that records described together are described again over
    several later runs rather than all in one. Never described (stored before descriptions
    were dated): stale."""
    if known.described_at is None:
        return True
    spread = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64
    return now - known.described_at >= timedelta(seconds=max_age * (1 - spread / 2))


@dataclass(frozen=True, slots=True)
class Sighting:
    """A record listed with the summary the store already holds: not described again, so
    only its sighting (and `seen` columns) is written."""

    arn: str
    account_id: str
    region: str
    content_hash: str
    seen_values: dict[str, Any] = field(default_factory=dict)

    @property
    def snapshot(self) -> None:
        return None

    def row(self) -> dict[str, Any]:
        raise TypeError(f"{self.arn}: a sighting has no row to write")

    def seen(self) -> dict[str, Any]:
        return self.seen_values

    def children(self) -> Mapping[str, Iterable[dict[str, Any]]]:
        return {}


@dataclass(frozen=True, slots=True)
class ListingFilter:
    """The API's own filters of a targeted refresh. Only resources that are `filterable`
    take them, and a filtered listing is never complete."""

    connector_type: str | None = None
    connector_label: str | None = None
    profile_names: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.connector_type or self.connector_label or self.profile_names)


@dataclass(frozen=True, slots=True)
class Describe:
    """The detail call of a resource listed as summaries (`ListFlows`, `ListConnectors`).

    A listed summary whose digest is the stored one is a `Sighting`: no call. Otherwise the
    detail is asked for; a record gone in between (`vanished`) is left out and makes the
    listing incomplete.
    """

    operation: str
    key: Callable[[Mapping[str, Any]], str]
    """The summary's key within its scope, as `key_column` stores it; `UnstorableRecord`
    if it has none."""
    request: Callable[[Mapping[str, Any]], dict[str, Any]]
    """The detail call's parameters for a summary."""
    summary_hash: Callable[[Mapping[str, Any]], str]
    """A digest of what the summary says, without what changes on its own (a last run)."""
    key_column: str
    hash_column: str
    answer: str | None = None
    """The member of the answer holding the detail (None: the whole answer)."""
    seen: Callable[[Mapping[str, Any]], dict[str, Any]] = lambda summary: {}
    """The `seen_columns` values a summary gives, for a sighting."""
    vanished: str = "ResourceNotFoundException"


@dataclass(frozen=True, slots=True)
class Api:
    """How one scope of a resource is listed."""

    operation: str
    """The listing operation, paged with `maxResults` and `nextToken`."""
    items: str
    """The member of a page holding its items."""
    describe: Describe | None = None
    """None: the listed items are whole records."""
    requests: Callable[[ListingFilter], Iterable[dict[str, Any]]] = lambda _: ({},)
    """The independent listings a scope needs (a filter may split one in several)."""
    filterable: bool = False
    """Whether a targeted refresh's `ListingFilter` applies to this listing."""
    page_size: int = 100

    def listing_requests(self, selection: ListingFilter) -> list[dict[str, Any]]:
        """The parameters of each independent listing of one scope, `maxResults` included."""
        chosen = selection if self.filterable else ListingFilter()
        return [{"maxResults": self.page_size, **params} for params in self.requests(chosen)]


Normalize = Callable[[Mapping[str, Any], Mapping[str, Any] | None, str, str], Record]
"""(listed item, its detail or None, account id, region) -> the record; `UnstorableRecord`
for one that cannot be stored at all."""


@dataclass(frozen=True, slots=True)
class Child:
    """A child table: rows that hang off a record (a profile's flattened properties, a
    flow's links), replaced whenever the record's content changes."""

    table: str
    cleared_on_delete: bool
    """Whether a deleted record loses them (current state only), or keeps its last ones."""


@dataclass(frozen=True, slots=True, eq=False)
class Resource:
    """One AppFlow resource the inventory keeps."""

    name: str
    """Its name in `--resources`, `--resource`, metrics and `collection_scope_resources`."""
    singular: str
    """One of its records, in one word ("profile"); error codes are made of it
    (`InvalidProfileData`, `TooManyProfiles`)."""
    title: str
    """What people call its records, plural ("connector profiles")."""
    api: Api
    normalize: Normalize
    table: str
    """One row per ARN ever seen, with `account_id`, `region` and the history columns
    (`content_hash`, `version`, `first_seen_at`, `last_seen_at`, `deleted_at`)."""
    key: str
    """The ARN column, in `table`, its versions and its child tables."""
    versions: str
    """Its append-only history, keyed by (`key`, `version`)."""
    name_column: str
    """The column naming a record within its scope (what links and people use)."""
    show_columns: tuple[str, ...]
    """What `show` prints of a record, between its scope and its ARN."""
    change_columns: tuple[str, ...]
    """What `changes` prints of a record, between its scope and its ARN."""
    type_columns: tuple[str, ...] = ()
    """Columns naming a connector type, which `show --connector-type` matches (any of them)."""
    children: tuple[Child, ...] = ()
    seen_columns: tuple[str, ...] = ()
    """Columns refreshed on every sighting, beside `last_seen_at` (`Record.seen`)."""
    map_paths: frozenset[tuple[str, ...]] = frozenset()
    """Snapshot paths holding maps with free-form keys: compared whole in `changed_fields`."""
    run_columns: str | None = None
    """The prefix of its counts in `collection_runs` (`profiles_seen`, ...), kept for the
    dashboards that read them; every resource's counts are in `collection_run_resources`."""
    legacy_metrics: tuple[str, str] | None = None
    """The names of its seen and changes gauges before they took a `resource` label."""

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Resource({self.name!r})"

    def changed_fields(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
        """The dotted paths whose values differ between two of its snapshots."""
        return changed_paths(old, new, self.map_paths)


@dataclass(frozen=True, slots=True)
class Link:
    """A column naming a resource of the same scope by its name, resolved to the live
    record's ARN (or NULL) after every write, in every scope written.

    The column `arn` of `table` is set from `name`: the ARN of the live `target` record of
    that name in the account and region of the `owner` record the row belongs to (through
    the row's `owner.key`).
    """

    owner: Resource
    table: str
    name: str
    arn: str
    target: Resource
