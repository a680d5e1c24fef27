"""Suggestions for a name that is not one of the known ones (a typo). Standard library only."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, known: Iterable[str], cutoff: float = 0.75) -> str | None:
    """The known name most like `word`, if one is close enough to be a typo of it."""
    found = difflib.get_close_matches(word, list(known), n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(word: str, known: Iterable[str], cutoff: float = 0.75) -> str:
    """` (did you mean NAME?)` for the closest known name, or an empty string."""
    match = closest(word, known, cutoff)
    return f" (did you mean {match}?)" if match else ""
