"""Moments as people type them: ISO-8601, or an age such as `7d`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .._errors import ConfigError

WHEN_FORMS = (
    "ISO-8601 (2026-11-01, 2026-11-01T12:00:00Z, 2026-11-01T14:00+02:00) or an age (30m, 24h, 7d)"
)
_AGE = re.compile(r"(\d{1,9})([smhdw])", re.ASCII)
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, option: str, now: datetime) -> datetime:
    """An aware UTC time from ISO-8601 (naive means UTC) or an age before `now` (`7d`)."""
    value = text.strip()
    try:
        age = _AGE.fullmatch(value)
        if age:
            return now - timedelta(**{_AGE_UNITS[age[2]]: int(age[1])})
        stamp = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise ConfigError(f"{option} {text!r} is not a time: use {WHEN_FORMS}") from None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
