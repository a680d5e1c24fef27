"""Turn connector profiles as the API returned them into rows. Pure functions, no I/O.

The input is the decoded JSON of a `DescribeConnectorProfiles` page, not botocore's parsed
output: botocore drops members its model does not know yet (a property block AWS adds before
botocore learns of it) and converts timestamps to local time. Working from the wire keeps
everything AWS said and keeps timestamps in UTC.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TIMESTAMP_FIELDS = ("createdAt", "lastUpdatedAt")

log = logging.getLogger("collector")

# Members that the API model declares as maps (free-form keys) rather than structures. Maps
# are kept whole as one JSON value; structures are walked into dotted paths.
_MAP_PATHS = frozenset(
    {
        ("CustomConnector", "profileProperties"),
        ("CustomConnector", "oAuth2Properties", "tokenUrlCustomProperties"),
    }
)


# A JSON-escaped NUL (\u0000) not itself preceded by an escaping backslash.
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


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


class ProfileDataError(ValueError):
    """A profile the API returned that cannot be stored at all (no ARN, a NUL character or
    a lone surrogate).

    Any other odd value (a timestamp out of range, a number where a string belongs) is kept
    as sent in the snapshot, its typed column left NULL, and a warning logged.
    """


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    """One connector profile, normalized: the columns of `connector_profiles`."""

    arn: str
    account_id: str
    region: str
    name: str | None
    connector_type: str | None
    connector_label: str | None
    connection_mode: str | None
    credentials_arn: str | None
    created_at: datetime | None
    last_updated_at: datetime | None
    private_connection_status: str | None
    private_connection_failure_cause: str | None
    private_connection_failure_message: str | None
    properties: dict[str, Any]
    snapshot: dict[str, Any]
    content_hash: str


def normalize_profile(raw: Mapping[str, Any], account_id: str, region: str) -> ProfileRecord:
    """Normalize one profile of the (account, region) scope it was listed in.

    Raises `ProfileDataError` only for a profile that cannot be stored at all; a value that
    cannot be read into its column leaves the column NULL and is logged once.
    """
    arn = raw.get("connectorProfileArn")
    if not isinstance(arn, str) or not arn:
        raise ProfileDataError(f"profile {raw.get('connectorProfileName')!r} has no ARN")
    problems: list[str] = []
    snapshot = make_snapshot(raw)
    canonical = canonical_json(snapshot)
    problem = unstorable(canonical)
    if problem:
        # Storing part of the profile would lie.
        raise ProfileDataError(f"{arn}: {problem}")
    properties = snapshot.get("connectorProfileProperties")
    if properties is None:
        properties = {}
    elif not isinstance(properties, dict):
        problems.append(f"connectorProfileProperties is {type(properties).__name__}, not an object")
        properties = {}
    state = snapshot.get("privateConnectionProvisioningState")
    if not isinstance(state, dict):
        if state is not None:
            problems.append(
                f"privateConnectionProvisioningState is {type(state).__name__}, not an object"
            )
        state = {}
    record = ProfileRecord(
        arn=arn,
        account_id=account_id,
        region=region,
        name=read_text(snapshot, "connectorProfileName", problems),
        connector_type=read_text(snapshot, "connectorType", problems),
        connector_label=read_text(snapshot, "connectorLabel", problems),
        connection_mode=read_text(snapshot, "connectionMode", problems),
        credentials_arn=read_text(snapshot, "credentialsArn", problems),
        created_at=read_timestamp(raw, "createdAt", problems),
        last_updated_at=read_timestamp(raw, "lastUpdatedAt", problems),
        private_connection_status=read_text(state, "status", problems),
        private_connection_failure_cause=read_text(state, "failureCause", problems),
        private_connection_failure_message=read_text(state, "failureMessage", problems),
        properties=properties,
        snapshot=snapshot,
        content_hash=hashlib.sha256(canonical.encode()).hexdigest(),
    )
    warn_kept(arn, problems)
    return record


def make_snapshot(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The profile as the API returned it, with timestamps as ISO-8601 UTC strings.

    A timestamp that cannot be read as a time is kept exactly as sent.
    """
    snapshot = dict(raw)
    for key in TIMESTAMP_FIELDS:
        if key in snapshot:
            try:
                stamp = parse_timestamp(snapshot[key])
            except ProfileDataError:
                continue
            snapshot[key] = None if stamp is None else iso_utc(stamp)
    return snapshot


def parse_timestamp(value: Any, arn: str = "") -> datetime | None:
    """Read an API timestamp (epoch seconds on the wire; ISO-8601 tolerated) as UTC.

    Raises `ProfileDataError` for anything that is not a representable time.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ProfileDataError(f"{arn}: timestamp {value!r} is not a time")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ProfileDataError(f"{arn}: timestamp {value!r} is not a time")
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ProfileDataError(f"{arn}: timestamp {value!r} is out of range") from None
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
        except (ValueError, OverflowError):
            raise ProfileDataError(f"{arn}: timestamp {value!r} is not a time") from None
    raise ProfileDataError(f"{arn}: timestamp {value!r} is not a time")


# Reading one API value into its typed column, tolerantly (profiles and flows): a value that
# does not fit leaves the column empty and is named in `problems`, logged once per resource.


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
    except ProfileDataError:
        problems.append(f"{key} {shown(mapping.get(key))} is not a time this collector can store")
        return None


def warn_kept(arn: str, problems: list[str]) -> None:
    """Log each problem of one resource: its value stays in the snapshot as sent."""
    for problem in problems:
        log.warning("%s: %s; kept as sent, its column left empty", arn, problem)


def shown(value: Any) -> str:
    """A value as a log line quotes it: its repr, cut at 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def iso_utc(stamp: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, to the microsecond when there is one."""
    text = stamp.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def content_hash(snapshot: Mapping[str, Any]) -> str:
    """A digest of everything the API said about a profile, independent of key order."""
    return hashlib.sha256(canonical_json(snapshot).encode()).hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def flatten_properties(properties: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """Yield `(connector, path, value)` for every leaf of `connectorProfileProperties`.

    Structures become dotted paths; lists and maps are leaves, their value JSON text.
    Strings are kept as they are; numbers and booleans are JSON text (`true`, `443`).
    """
    for connector, block in properties.items():
        if isinstance(block, dict):
            for path, value in _walk(block, (connector,)):
                yield connector, ".".join(path[1:]), _leaf_text(value)
        else:
            yield connector, "", _leaf_text(block)


def _walk(
    node: Mapping[str, Any], prefix: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in node.items():
        path = (*prefix, key)
        if isinstance(value, dict) and path not in _MAP_PATHS:
            yield from _walk(value, path)
        else:
            yield path, value


def changed_paths(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Dotted paths whose value differs between two snapshots, sorted."""
    before = {path: canonical_json(value) for path, value in _walk_all(old, ())}
    after = {path: canonical_json(value) for path, value in _walk_all(new, ())}
    keys = before.keys() | after.keys()
    return sorted(".".join(k) for k in keys if before.get(k) != after.get(k))


_SNAPSHOT_MAP_PATHS = frozenset(("connectorProfileProperties", *path) for path in _MAP_PATHS)


def _walk_all(
    node: Mapping[str, Any], prefix: tuple[str, ...]
) -> Iterable[tuple[tuple[str, ...], Any]]:
    for key, value in node.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value and path not in _SNAPSHOT_MAP_PATHS:
            yield from _walk_all(value, path)
        else:
            yield path, value


def _leaf_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
