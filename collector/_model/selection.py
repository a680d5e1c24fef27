"""Which records a read command asks for: its filters, as plain values. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

WILDCARDS = ("*", "?")


@dataclass(frozen=True, slots=True)
class Selection:
    """The filters of `show`, `changes` and `history`; an empty one selects everything.

    `name` is a record's name (`connector_profile_name`, `flow_name`, ...) exactly, or a
    pattern with `*` and `?`, matched case-sensitively on every database.
    """

    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    connector_types: tuple[str, ...] = ()
    name: str | None = None
    run_id: str | None = None
    """Only the versions this run wrote (`changes`)."""
    change_types: tuple[str, ...] = ()
    """Only versions of these change types (`changes`)."""

    @property
    def name_is_pattern(self) -> bool:
        return self.name is not None and any(w in self.name for w in WILDCARDS)

    @property
    def name_prefix(self) -> str:
        """The literal start of the name pattern, before its first wildcard."""
        name = self.name or ""
        cut = min((name.index(w) for w in WILDCARDS if w in name), default=len(name))
        return name[:cut]

    def name_matches(self, value: object) -> bool:
        """Whether a record's name matches `name` (any name does when there is none)."""
        if self.name is None:
            return True
        return isinstance(value, str) and fnmatchcase(value, self.name)
