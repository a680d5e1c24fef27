"""Reading AppFlow answers as the wire sent them: every resource's shared rules. Pure.

Resources are normalized from the decoded JSON body, not botocore's parsed output: botocore
drops members its model does not know yet and converts timestamps to local time. These
helpers read one value into its typed column tolerantly (a value that does not fit leaves
the column empty, is named in `problems` and logged once per resource, and stays in the
snapshot as sent), digest snapshots independently of key order, and say when a record
cannot be stored at all (`UnstorableRecord`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("collector")

Path = tuple[str, ...]
"""Where a value sits in a snapshot: its keys from the top."""

# A JSON-escaped NUL (\u0000) not itself preceded by an escaping backslash.
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


class UnstorableRecord(ValueError):
    """A record the API returned that cannot be stored at all: no ARN or key, a NUL
    character, a lone UTF-16 surrogate.

    Any other odd value (a timestamp out of range, a number where a string belongs) is kept
    as sent in the snapshot, its typed column left NULL, and a warning logged.
    """


def unstorable(canonical: str) -> str | None:
    """Why a snapshot's canonical JSON cannot be stored in every database, or None.

    PostgreSQL's text and jsonb hold neither NUL nor a lone UTF-16 surrogate (which JSON can
    escape as `\\ud800`, and UTF-8 cannot encode).
    """
    # The substring test first: the regex costs more than the rest of normalizing.
    if "\\u0000" in canonical and _ESCAPED_NUL.search(canonical):
        return "a value contains a NUL character"
    if not canonical.isascii():
        try:
            canonical.encode()
        except UnicodeEncodeError:
            return "a value contains a lone UTF-16 surrogate, which is not text"
    return None


def checked_digest(arn: str, snapshot: Mapping[str, Any]) -> str:
    """The digest of a snapshot that can be stored; `UnstorableRecord` if it cannot."""
    canonical = canonical_json(snapshot)
    problem = unstorable(canonical)
    if problem:
        # Storing part of the record would lie.
        raise UnstorableRecord(f"{arn}: {problem}")
    return hashlib.sha256(canonical.encode()).hexdigest()


def digest(value: Any) -> str:
    """A digest of any JSON value, independent of key order; a lone surrogate does not stop
    it (the record holding one is refused later, by `checked_digest`)."""
    return hashlib.sha256(canonical_json(value).encode("utf-8", "surrogatepass")).hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def required_text(mapping: Mapping[str, Any], key: str, problem: str) -> str:
    """`mapping[key]`, a non-empty string that identifies a record; else `UnstorableRecord`
    saying `problem`."""
    value = mapping.get(key)
    if not isinstance(value, str) or not value:
        raise UnstorableRecord(problem)
    return value


def parse_timestamp(value: Any, arn: str = "") -> datetime | None:
    """Read an API timestamp (epoch seconds on the wire; ISO-8601 tolerated) as UTC.

    Raises `UnstorableRecord` for anything that is not a representable time.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise UnstorableRecord(f"{arn}: timestamp {value!r} is not a time")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise UnstorableRecord(f"{arn}: timestamp {value!r} is not a time")
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise UnstorableRecord(f"{arn}: timestamp {value!r} is out of range") from None
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
        except (ValueError, OverflowError):
            raise UnstorableRecord(f"{arn}: timestamp {value!r} is not a time") from None
    raise UnstorableRecord(f"{arn}: timestamp {value!r} is not a time")


def iso_utc(stamp: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, to the microsecond when there is one."""
    text = stamp.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def with_iso_times(raw: Mapping[str, Any], paths: Iterable[Path]) -> dict[str, Any]:
    """A copy of `raw` with the timestamps at `paths` as ISO-8601 UTC strings.

    Copied on the way, never changed in place (the answer as decoded stays what AWS sent);
    a timestamp that cannot be read as a time is kept exactly as sent.
    """
    snapshot = dict(raw)
    for path in paths:
        snapshot = _with_iso_time(snapshot, path)
    return snapshot


def _with_iso_time(node: dict[str, Any], path: Path) -> dict[str, Any]:
    key, rest = path[0], path[1:]
    if key not in node:
        return node
    value = node[key]
    if rest:
        return {**node, key: _with_iso_time(value, rest)} if isinstance(value, dict) else node
    try:
        stamp = parse_timestamp(value)
    except UnstorableRecord:
        return node
    return {**node, key: None if stamp is None else iso_utc(stamp)}


def read_text(
    mapping: Mapping[str, Any], key: str, problems: list[str], where: str = ""
) -> str | None:
    """`mapping[key]` if it is text a database can store, else None (and a problem)."""
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"{where}{key} is {type(value).__name__} {shown(value)}, not a string")
        return None
    if "\x00" in value:
        problems.append(f"{where}{key} contains a NUL character")
        return None
    return value


def read_timestamp(mapping: Mapping[str, Any], key: str, problems: list[str]) -> datetime | None:
    """`mapping[key]` as a UTC time, else None (and a problem)."""
    try:
        return parse_timestamp(mapping.get(key))
    except UnstorableRecord:
        problems.append(f"{key} {shown(mapping.get(key))} is not a time this collector can store")
        return None


def read_object(mapping: Mapping[str, Any], key: str, problems: list[str]) -> dict[str, Any]:
    """`mapping[key]` if it is an object, else an empty one (and a problem unless absent)."""
    value = mapping.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{key} is {type(value).__name__}, not an object")
        return {}
    return value


def warn_kept(arn: str, problems: list[str]) -> None:
    """Log each problem of one record: its value stays in the snapshot as sent."""
    for problem in problems:
        log.warning("%s: %s; kept as sent, its column left empty", arn, problem)


def shown(value: Any) -> str:
    """A value as a log line quotes it: its repr, cut at 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def changed_paths(
    old: Mapping[str, Any], new: Mapping[str, Any], maps: frozenset[Path] = frozenset()
) -> list[str]:
    """Dotted paths whose value differs between two snapshots, sorted.

    Objects are walked into their members, except those at `maps` (maps with free-form
    keys, compared whole) and empty ones.
    """
    before = {path: canonical_json(value) for path, value in _leaves(old, (), maps)}
    after = {path: canonical_json(value) for path, value in _leaves(new, (), maps)}
    keys = before.keys() | after.keys()
    return sorted(".".join(k) for k in keys if before.get(k) != after.get(k))


def changed_values(
    old: Mapping[str, Any], new: Mapping[str, Any], maps: frozenset[Path] = frozenset()
) -> list[tuple[str, Any, Any]]:
    """(dotted path, old value, new value) of each path `changed_paths` names, in its order;
    a value absent on one side is None there."""
    before = dict(_leaves(old, (), maps))
    after = dict(_leaves(new, (), maps))
    changed = [
        key
        for key in before.keys() | after.keys()
        if canonical_json(before.get(key)) != canonical_json(after.get(key))
        or (key in before) != (key in after)
    ]
    return sorted(((".".join(k), before.get(k), after.get(k)) for k in changed), key=_first)


def _first(item: tuple[str, Any, Any]) -> str:
    return item[0]


def _leaves(
    node: Mapping[str, Any], prefix: Path, maps: frozenset[Path]
) -> Iterable[tuple[Path, Any]]:
    for key, value in node.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value and path not in maps:
            yield from _leaves(value, path, maps)
        else:
            yield path, value
