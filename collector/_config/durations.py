"""Durations as people type them, the same for every option: `90`, `2.5`, `15m`, `1h30m`, `2d`.

A bare number is seconds; otherwise one or more whole numbers, each followed by a unit
(`s`, `m`, `h`, `d`, `w`). Standard library only.
"""

from __future__ import annotations

import math
import re

DURATION_FORMS = "seconds (90, 2.5) or numbers with units s m h d w (15m, 1h30m, 2d)"

_SECONDS = re.compile(r"\d{1,12}(?:\.\d{1,9})?", re.ASCII)
_PARTS = re.compile(r"(?:\d{1,9}[smhdw])+", re.ASCII)
_PART = re.compile(r"(\d{1,9})([smhdw])", re.ASCII)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in `text`; `ValueError` if it is not a duration of one of the forms above."""
    value = text.strip()
    if _SECONDS.fullmatch(value):
        seconds = float(value)
    elif _PARTS.fullmatch(value):
        seconds = float(sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(value)))
    else:
        raise ValueError(f"{text!r} is not a duration")
    if not math.isfinite(seconds):
        raise ValueError(f"{text!r} is not a duration")
    return seconds
