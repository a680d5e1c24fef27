"""Serialized AppFlow pages, built lazily and cached until their scope changes.

Serializing items is the costliest part of an answer, and a benchmark asks for the same
pages again and again, so each (kind, scope, selection, offset, size, projection) page is
encoded once per scope version. The cache is used only on the server's event loop, so it
needs no lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ._model import Kind, Organization, ScopeKey

Item = dict[str, Any]
Projection = Callable[[Item], Item]
"""What a listing shows of an item (a flow's definition, a connector's summary)."""


class Selection(Protocol):
    """The filters of a listing request."""

    def binding(self) -> str:
        """A string naming this selection, for binding paging tokens to it."""
        ...

    def matches(self, item: Item) -> bool: ...


@dataclass(frozen=True)
class Everything:
    """A listing without filters."""

    def binding(self) -> str:
        return "*"

    def matches(self, item: Item) -> bool:
        return True


def whole(item: Item) -> Item:
    """An item listed as it is stored."""
    return item


@dataclass(frozen=True)
class Page:
    """One page: its items as a JSON array, and the offset of the next page if any."""

    items: bytes
    count: int
    next_offset: int | None


_PageKey = tuple[str, ScopeKey, Selection, int, int, Projection]


class PageCache:
    """Pages of one organization, keyed by kind, scope, selection, offset, size and
    projection."""

    def __init__(self, org: Organization) -> None:
        self._org = org
        self._pages: dict[_PageKey, tuple[int, Page]] = {}
        self._lists: dict[tuple[str, ScopeKey, Selection], tuple[int, tuple[Item, ...]]] = {}

    def page(
        self,
        kind: Kind,
        key: ScopeKey,
        selection: Selection,
        window: tuple[int, int],
        project: Projection = whole,
    ) -> Page:
        """The page of `window` (offset, size) of the items `selection` matches."""
        offset, size = window
        version = self._org.version_of(key)
        cache_key = (kind.name, key, selection, offset, size, project)
        cached = self._pages.get(cache_key)
        if cached is not None and cached[0] == version:
            return cached[1]
        version, items = self._matching(kind, key, selection)
        chunk = items[offset : offset + size]
        end = offset + len(chunk)
        page = Page(
            items=json.dumps([project(item) for item in chunk], separators=(",", ":")).encode(),
            count=len(chunk),
            next_offset=end if end < len(items) else None,
        )
        self._pages[cache_key] = (version, page)
        return page

    def count(self, kind: Kind, key: ScopeKey, selection: Selection) -> int:
        """How many items `selection` matches in the scope."""
        return len(self._matching(kind, key, selection)[1])

    def _matching(
        self, kind: Kind, key: ScopeKey, selection: Selection
    ) -> tuple[int, tuple[Item, ...]]:
        version, items = self._org.snapshot(kind, key)
        cached = self._lists.get((kind.name, key, selection))
        if cached is not None and cached[0] == version:
            return cached
        entry = version, tuple(item for item in items if selection.matches(item))
        self._lists[(kind.name, key, selection)] = entry
        return entry
