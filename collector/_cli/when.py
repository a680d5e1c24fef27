"""Moments as people type them: ISO-8601, or an age such as `7d`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .._config import parse_duration
from .._errors import ConfigError

_COMPACT_DATE = re.compile(r"(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])", re.ASCII)
WHEN_FORMS = (
    "ISO-8601 (2026-11-01, 2026-11-01T12:00:00Z, 2026-11-01T14:00+02:00) or an age, a "
    "duration before now (90, 30m, 24h, 7d)"
)


def parse_when(text: str, option: str, now: datetime) -> datetime:
    """An aware UTC time from ISO-8601 (naive means UTC) or an age before `now`: a duration
    as every option takes them (`90` seconds, `7d`)."""
    value = text.strip()
    if _COMPACT_DATE.fullmatch(value):
        # 20261101: a date written without dashes, or twenty million seconds?
        raise ConfigError(
            f"{option} {text!r} is ambiguous: write a date as {value[:4]}-{value[4:6]}-"
            f"{value[6:]}, or an age with its unit ({value}s)"
        )
    try:
        try:
            return now - timedelta(seconds=parse_duration(value))
        except ValueError:
            pass  # not an age: a moment
        stamp = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise ConfigError(f"{option} {text!r} is not a time: use {WHEN_FORMS}") from None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
