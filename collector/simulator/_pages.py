"""Serialized AppFlow pages, built lazily and cached until their scope changes.

Serializing profiles is the costliest part of an answer, and a benchmark asks for the same
pages again and again, so each (scope, filter, offset, size) page is encoded once per scope
version. The cache is used only on the server's event loop, so it needs no lock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ._model import Organization, Profile, ScopeKey


@dataclass(frozen=True)
class ProfileFilter:
    """The filters of a DescribeConnectorProfiles request."""

    names: tuple[str, ...] | None = None
    connector_type: str | None = None
    connector_label: str | None = None

    def binding(self) -> str:
        """A string naming this filter, for binding paging tokens to it."""
        return f"{self.names!r}|{self.connector_type!r}|{self.connector_label!r}"

    def matches(self, profile: Profile) -> bool:
        """Whether a profile passes every filter given."""
        if self.names is not None and profile.get("connectorProfileName") not in self.names:
            return False
        if self.connector_type is not None and profile.get("connectorType") != self.connector_type:
            return False
        label = self.connector_label
        return label is None or profile.get("connectorLabel") == label


@dataclass(frozen=True)
class Page:
    """One page: its profiles as a JSON array, and the offset of the next page if any."""

    items: bytes
    count: int
    next_offset: int | None


class PageCache:
    """Pages of one organization, keyed by scope, filter, offset and size."""

    def __init__(self, org: Organization) -> None:
        self._org = org
        self._pages: dict[tuple[ScopeKey, ProfileFilter, int, int], tuple[int, Page]] = {}
        self._lists: dict[tuple[ScopeKey, ProfileFilter], tuple[int, tuple[Profile, ...]]] = {}

    def page(self, key: ScopeKey, selection: ProfileFilter, offset: int, size: int) -> Page:
        """The page of `size` profiles starting at `offset`."""
        version = self._org.version_of(key)
        cache_key = (key, selection, offset, size)
        cached = self._pages.get(cache_key)
        if cached is not None and cached[0] == version:
            return cached[1]
        version, profiles = self._matching(key, selection)
        chunk = profiles[offset : offset + size]
        end = offset + len(chunk)
        page = Page(
            items=json.dumps(chunk, separators=(",", ":")).encode(),
            count=len(chunk),
            next_offset=end if end < len(profiles) else None,
        )
        self._pages[cache_key] = (version, page)
        return page

    def _matching(self, key: ScopeKey, selection: ProfileFilter) -> tuple[int, tuple[Profile, ...]]:
        version, profiles = self._org.snapshot(key)
        cached = self._lists.get((key, selection))
        if cached is not None and cached[0] == version:
            return cached
        entry = version, tuple(p for p in profiles if selection.matches(p))
        self._lists[(key, selection)] = entry
        return entry
