"""Property-based tests: normalization and storage of any profile the API model allows, and
the version history of any sequence of creates, updates, deletes and restores.

Profiles are generated from botocore's own AppFlow model (`ConnectorProfile`): every member
optional, strings from their patterns, enums with values the model does not know yet, plus
connector types, property blocks and members that AWS may add before botocore learns them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import botocore.session
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from collector import upgrade
from collector._model.resources.profiles import normalize_profile
from collector._model.scopes import Scope, ScopeOutcome, ScopeStatus
from collector._model.wire import UnstorableRecord
from collector._store import Store, create_engine
from collector._store.schema import (
    collection_scopes,
    connector_profile_properties,
    connector_profile_versions,
    connector_profiles,
)
from collector.simulator import APPFLOW_REGIONS, CONNECTOR_TYPES, PROPERTY_BLOCK_KEYS

from ..support import scope_outcome

T = TypeVar("T")

_MODEL = botocore.session.get_session().get_service_model("appflow")
_PROFILE_SHAPE = _MODEL.shape_for("ConnectorProfile")
_PROPERTIES_SHAPE = _MODEL.shape_for("ConnectorProfileProperties")
_NAME = re.compile(r"[\w/!@#+=.-]{1,256}", re.ASCII)
_SETTINGS = settings(
    max_examples=70,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- strategies ------------------------------------------------------------------------------

identifiers = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,15}", fullmatch=True)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    # No NUL and no lone surrogate: the collector refuses both (see
    # test_nul_characters_are_refused_with_a_clear_error and ..._lone_surrogates_...).
    | st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(identifiers, inner, max_size=3),
    max_leaves=10,
)
# Epoch seconds, as the wire carries them: floats mostly, integers sometimes.
timestamps = st.floats(0, 4_102_444_800, allow_nan=False) | st.integers(0, 4_102_444_800)


def unknown_members(known: Sequence[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Members AWS may add to a structure before botocore's model has them."""
    return st.dictionaries(identifiers.filter(lambda k: k not in known), json_values, max_size=2)


def _is_text(value: str) -> bool:
    """No lone surrogate: the string can be encoded as UTF-8."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def from_shape(shape: Any) -> st.SearchStrategy[Any]:
    """Values the model allows for a botocore shape (as decoded JSON from the wire)."""
    kind = shape.type_name
    if kind == "structure":
        members = {name: from_shape(member) for name, member in shape.members.items()}
        return st.builds(
            lambda known, extra: {**known, **extra},
            st.fixed_dictionaries({}, optional=members),
            unknown_members(list(members)),
        )
    if kind == "string":
        if shape.enum:
            # Output enums are not validated: a value AWS adds later passes through.
            return st.sampled_from(list(shape.enum)) | identifiers.map(str.upper)
        limit = int(shape.metadata.get("max", 256))
        pattern = shape.metadata.get("pattern")
        text = st.from_regex(pattern, fullmatch=True) if pattern else st.text(max_size=limit)
        return text.filter(lambda s: len(s) <= limit and "\x00" not in s and _is_text(s))
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "long"):
        return st.integers(
            int(shape.metadata.get("min", -(2**31))), int(shape.metadata.get("max", 2**31 - 1))
        )
    if kind == "timestamp":
        return timestamps
    if kind == "list":
        return st.lists(from_shape(shape.member), max_size=3)
    if kind == "map":
        return st.dictionaries(from_shape(shape.key), from_shape(shape.value), max_size=3)
    raise AssertionError(f"shape type {kind} is not generated")


unknown_types = identifiers.map(lambda s: s[0].upper() + s[1:]).filter(
    lambda t: t not in CONNECTOR_TYPES
)


@st.composite
def property_blocks(draw: st.DrawFn, connector_type: str) -> dict[str, Any]:
    """`connectorProfileProperties` for a connector type: its block, maybe more, maybe none."""
    blocks: dict[str, Any] = {}
    if connector_type in PROPERTY_BLOCK_KEYS:
        key = PROPERTY_BLOCK_KEYS[connector_type]
        if key is not None:
            blocks[key] = draw(from_shape(_PROPERTIES_SHAPE.members[key]))
    else:
        # A connector AWS added: its block is unknown to botocore and to us.
        blocks[connector_type] = draw(st.dictionaries(identifiers, json_values, max_size=4))
    extra = draw(unknown_members([*_PROPERTIES_SHAPE.members, *blocks]))
    return {**blocks, **extra}


@st.composite
def profiles(draw: st.DrawFn) -> dict[str, Any]:
    """One item of `connectorProfileDetails` as the wire carries it (the ARN always set)."""
    account = draw(st.from_regex(r"[0-9]{12}", fullmatch=True))
    region = draw(st.sampled_from(APPFLOW_REGIONS))
    name = draw(st.from_regex(_NAME, fullmatch=True))
    connector_type = draw(st.sampled_from(CONNECTOR_TYPES) | unknown_types)
    members = _PROFILE_SHAPE.members
    fixed = {"connectorProfileArn", "connectorProfileName", "connectorType"}
    optional = {
        key: from_shape(shape)
        for key, shape in members.items()
        if key not in fixed and key != "connectorProfileProperties"
    }
    optional["connectorProfileName"] = st.just(name)
    optional["connectorType"] = st.just(connector_type)
    optional["connectorProfileProperties"] = property_blocks(connector_type)
    profile = {"connectorProfileArn": f"arn:aws:appflow:{region}:{account}:connectorprofile/{name}"}
    profile.update(draw(st.fixed_dictionaries({}, optional=optional)))
    profile.update(draw(unknown_members(list(members))))
    keys = draw(st.permutations(list(profile)))
    return {key: profile[key] for key in keys}


# --- expectations, written from the docs rather than from the code -----------------------------


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def expected_snapshot(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The profile as the API returned it, timestamps as ISO-8601 UTC."""
    snapshot = dict(raw)
    for key in ("createdAt", "lastUpdatedAt"):
        if key in snapshot:
            snapshot[key] = iso_utc(snapshot[key])
    return snapshot


def canonical(value: Any) -> str:
    """JSON that tells 1 from 1.0 from true and ignores key order."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def expected_leaves(properties: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """`connector_profile_properties` rows: structures walked into dotted paths; what the
    model declares as a map, and lists and scalars, are leaves. Unknown objects are walked."""
    leaves: dict[tuple[str, str], Any] = {}

    def walk(connector: str, node: Mapping[str, Any], shape: Any, path: tuple[str, ...]) -> None:
        for key, value in node.items():
            member = shape.members.get(key) if shape is not None else None
            here = (*path, key)
            if isinstance(value, dict) and getattr(member, "type_name", None) != "map":
                walk(connector, value, member, here)
            else:
                leaves[(connector, ".".join(here))] = value

    for connector, block in properties.items():
        if isinstance(block, dict):
            walk(connector, block, _PROPERTIES_SHAPE.members.get(connector), ())
        else:
            leaves[(connector, "")] = block
    return leaves


def reordered(value: Any) -> Any:
    """The same JSON with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {k: reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reordered(v) for v in value]
    return value


# --- a SQLite inventory driven through the store, one event loop per test --------------------


class Inventory:
    """A SQLite database upgraded with `collector.upgrade`, written with `Store.write_scopes`."""

    def __init__(self, path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine: AsyncEngine = create_engine(f"sqlite:///{path}")
        self.run(upgrade(self.engine))
        self.store = Store(self.engine)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.run(self.engine.dispose())
        self.loop.close()

    def clear(self) -> None:
        async def go() -> None:
            async with self.engine.begin() as conn:
                for table in (
                    connector_profiles,
                    connector_profile_versions,
                    connector_profile_properties,
                    collection_scopes,
                ):
                    await conn.execute(sa.delete(table))

        self.run(go())

    def write(self, outcomes: Sequence[ScopeOutcome]) -> None:
        self.run(self.store.write_scopes(str(uuid.uuid4()), outcomes))

    def rows(self, table: sa.Table, *order: sa.ColumnElement[Any]) -> list[dict[str, Any]]:
        async def go() -> list[dict[str, Any]]:
            async with self.engine.connect() as conn:
                result = await conn.execute(sa.select(table).order_by(*order))
                return [dict(row._mapping) for row in result]

        return self.run(go())


@contextmanager
def inventory(path: Path) -> Iterator[Inventory]:
    db = Inventory(path)
    try:
        yield db
    finally:
        db.close()


def outcome(
    scope: Scope,
    records: list[Any],
    at: datetime,
    *,
    complete: bool,
    status: ScopeStatus = ScopeStatus.SUCCEEDED,
) -> ScopeOutcome:
    error_code = None if status is ScopeStatus.SUCCEEDED else "throttled"
    return scope_outcome(
        scope,
        at,
        records,
        complete=complete,
        status=status,
        error_code=error_code,
        started=at - timedelta(seconds=1),
    )


# --- (a) any profile normalizes and round-trips ----------------------------------------------


@pytest.mark.slow
def test_any_profile_round_trips_through_storage(tmp_path: Path) -> None:
    """Any profile the API model allows normalizes and reads back from SQLite exactly as sent."""
    with inventory(tmp_path / "inventory.db") as db:
        t0 = datetime(2026, 1, 1, tzinfo=UTC)

        @_SETTINGS
        @given(raw=profiles())
        def check(raw: dict[str, Any]) -> None:
            db.clear()
            arn = raw["connectorProfileArn"]
            account, region = arn.split(":")[4], arn.split(":")[3]
            scope = Scope(account, region)
            record = normalize_profile(raw, account, region)
            db.write([outcome(scope, [record], t0, complete=True)])

            snapshot = expected_snapshot(raw)
            properties = raw.get("connectorProfileProperties", {})
            (row,) = db.rows(connector_profiles)
            (version,) = db.rows(connector_profile_versions)
            assert canonical(row["properties"]) == canonical(properties)
            assert canonical(version["snapshot"]) == canonical(snapshot)
            assert version["change_type"] == "created"
            digest = hashlib.sha256(canonical(snapshot).encode()).hexdigest()
            assert row["content_hash"] == version["content_hash"] == digest
            state = raw.get("privateConnectionProvisioningState", {})
            assert row == {
                **row,
                "connector_profile_arn": arn,
                "account_id": account,
                "region": region,
                "connector_profile_name": raw.get("connectorProfileName"),
                "connector_type": raw.get("connectorType"),
                "connector_label": raw.get("connectorLabel"),
                "connection_mode": raw.get("connectionMode"),
                "credentials_arn": raw.get("credentialsArn"),
                "created_at": stamp(raw.get("createdAt")),
                "last_updated_at": stamp(raw.get("lastUpdatedAt")),
                "private_connection_status": state.get("status"),
                "private_connection_failure_cause": state.get("failureCause"),
                "private_connection_failure_message": state.get("failureMessage"),
                "version": 1,
                "deleted_at": None,
                "first_seen_at": t0,
                "last_seen_at": t0,
            }
            leaves = {
                (r["connector"], r["path"]): r["value"]
                for r in db.rows(connector_profile_properties)
            }
            expected = expected_leaves(properties)
            assert set(leaves) == set(expected)
            for key, value in expected.items():
                # Strings as they are; anything else as JSON text of the same value.
                text = leaves[key]
                if isinstance(value, str):
                    assert text == value, key
                else:
                    assert canonical(json.loads(text)) == canonical(value), key

            # The same profile again, every key order reversed: seen, but not a change.
            again = normalize_profile(reordered(raw), account, region)
            later = t0 + timedelta(hours=1)
            db.write([outcome(scope, [again], later, complete=True)])
            assert len(db.rows(connector_profile_versions)) == 1
            (row,) = db.rows(connector_profiles)
            assert (row["last_seen_at"], row["content_hash"]) == (later, digest)

        check()


def stamp(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=profiles())
def test_a_profile_without_arn_is_a_data_error(raw: dict[str, Any]) -> None:
    """Without an ARN a profile cannot be stored, and normalizing says so with UnstorableRecord."""
    del raw["connectorProfileArn"]
    try:
        normalize_profile(raw, "123456789012", "us-east-1")
    except UnstorableRecord:
        return
    raise AssertionError("a profile without ARN was accepted")


# --- (b) any history of changes --------------------------------------------------------------

SCOPES = (Scope("000000000042", "us-east-1"), Scope("000000000042", "eu-west-1"))
NAMES = {SCOPES[0]: ("crm", "team/sales+eu=1", "ops@x#2", "a.b-c"), SCOPES[1]: ("dw", "lake!")}


def history_profile(scope: Scope, name: str, variant: int, reorder: bool) -> dict[str, Any]:
    """One of three contents of a profile; `reorder` sends the same content in another order."""
    arn = f"arn:aws:appflow:{scope.region}:{scope.account_id}:connectorprofile/{name}"
    profile: dict[str, Any] = {
        "connectorProfileArn": arn,
        "connectorProfileName": name,
        "connectorType": "Salesforce",
        "connectionMode": "Public",
        "credentialsArn": f"arn:aws:secretsmanager:{scope.region}:1:secret:{name}-{variant}",
        "connectorProfileProperties": {
            "Salesforce": {
                "instanceUrl": f"https://v{variant}.my.salesforce.com",
                "isSandboxEnvironment": variant == 2,
            }
        },
        "createdAt": 1_700_000_000.5,
        "lastUpdatedAt": 1_700_000_000 + variant,
    }
    return reordered(profile) if reorder else profile


@dataclass(frozen=True)
class Listing:
    """How one scope is listed in one run.

    `complete`: every page; `filtered`: only the profiles picked (a targeted refresh);
    `failed`: the first `keep` profiles, then an error.
    """

    kind: str
    picks: tuple[bool, ...] = ()
    keep: int = 0


listings = st.one_of(
    st.just(Listing("complete")),
    st.builds(
        Listing, st.just("filtered"), st.lists(st.booleans(), min_size=4, max_size=4).map(tuple)
    ),
    st.builds(Listing, st.just("failed"), st.just(()), st.integers(0, 4)),
)
# A profile's state in AWS for one run: absent, or one of three contents in either key order.
states = st.none() | st.tuples(st.integers(0, 2), st.booleans())


@dataclass(frozen=True)
class Run:
    aws: dict[Scope, tuple[tuple[int, bool] | None, ...]]
    listing: dict[Scope, Listing]


runs = st.builds(
    Run,
    st.fixed_dictionaries(
        {
            s: st.lists(states, min_size=len(NAMES[s]), max_size=len(NAMES[s])).map(tuple)
            for s in SCOPES
        }
    ),
    st.fixed_dictionaries({s: listings for s in SCOPES}),
)


@dataclass
class Expected:
    """The reference model: what the history of each ARN must be."""

    versions: dict[str, list[tuple[str, str, datetime]]] = field(default_factory=dict)
    """ARN -> [(change type, canonical snapshot, valid_from)]."""
    first_seen: dict[str, datetime] = field(default_factory=dict)
    last_seen: dict[str, datetime] = field(default_factory=dict)
    scope_of: dict[str, Scope] = field(default_factory=dict)

    def see(self, scope: Scope, listed: list[dict[str, Any]], complete: bool, at: datetime) -> None:
        seen = set()
        for raw in listed:
            arn, snapshot = raw["connectorProfileArn"], canonical(expected_snapshot(raw))
            seen.add(arn)
            chain = self.versions.setdefault(arn, [])
            self.scope_of[arn] = scope
            self.first_seen.setdefault(arn, at)
            self.last_seen[arn] = at
            if not chain:
                chain.append(("created", snapshot, at))
            elif chain[-1][0] == "deleted":
                chain.append(("restored", snapshot, at))
            elif chain[-1][1] != snapshot:
                chain.append(("updated", snapshot, at))
        if complete:
            for arn, chain in self.versions.items():
                if self.scope_of[arn] == scope and arn not in seen and chain[-1][0] != "deleted":
                    chain.append(("deleted", chain[-1][1], at))


def listed_profiles(scope: Scope, run: Run) -> list[dict[str, Any]]:
    """What AWS holds in a scope during a run, in the order it lists them."""
    return [
        history_profile(scope, name, *state)
        for name, state in zip(NAMES[scope], run.aws[scope], strict=True)
        if state is not None
    ]


def apply_listing(
    scope: Scope, present: list[dict[str, Any]], listing: Listing
) -> tuple[list[dict[str, Any]], bool, ScopeStatus]:
    """(profiles the listing returns, complete, status)."""
    if listing.kind == "complete":
        # A page may repeat a profile; it is still one sighting.
        return present + present[:1], True, ScopeStatus.SUCCEEDED
    if listing.kind == "filtered":
        picked = [p for p, keep in zip(present, listing.picks, strict=False) if keep]
        return picked, False, ScopeStatus.SUCCEEDED
    return present[: listing.keep], False, ScopeStatus.FAILED


@pytest.mark.slow
def test_any_history_of_changes_is_versioned_exactly(tmp_path: Path) -> None:
    """Any sequence of runs yields exactly the model's versions; incomplete runs never delete."""
    exercised: set[str] = set()
    with inventory(tmp_path / "inventory.db") as db:
        t0 = datetime(2026, 3, 1, tzinfo=UTC)

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(history=st.lists(runs, min_size=1, max_size=8))
        def check(history: list[Run]) -> None:
            db.clear()
            model = Expected()
            for index, run in enumerate(history):
                at = t0 + timedelta(minutes=index)
                batch = []
                for scope in SCOPES:
                    listed, complete, status = apply_listing(
                        scope, listed_profiles(scope, run), run.listing[scope]
                    )
                    records = [normalize_profile(p, scope.account_id, scope.region) for p in listed]
                    batch.append(outcome(scope, records, at, complete=complete, status=status))
                    model.see(scope, listed, complete, at)
                db.write(batch)  # both scopes in one transaction, as the runner batches them
                exercised.update(run.listing[scope].kind for scope in SCOPES)
            assert_matches_model(db, model)
            exercised.update(kind for chain in model.versions.values() for kind, _, _ in chain)

        check()
    # The examples must have covered every kind of change and of listing.
    assert exercised >= {"created", "updated", "deleted", "restored", "complete", "filtered"}
    assert "failed" in exercised


def assert_matches_model(db: Inventory, model: Expected) -> None:
    versions = db.rows(
        connector_profile_versions,
        connector_profile_versions.c.connector_profile_arn,
        connector_profile_versions.c.version,
    )
    chains: dict[str, list[dict[str, Any]]] = {}
    for v in versions:
        chains.setdefault(v["connector_profile_arn"], []).append(v)
    assert set(chains) == set(model.versions)
    rows = {r["connector_profile_arn"]: r for r in db.rows(connector_profiles)}
    assert set(rows) == set(model.versions)
    for arn, expected in model.versions.items():
        chain = chains[arn]
        assert [v["version"] for v in chain] == list(range(1, len(expected) + 1))
        assert [
            (v["change_type"], canonical(v["snapshot"]), v["valid_from"]) for v in chain
        ] == expected, arn
        valid_to = [v["valid_to"] for v in chain]
        assert valid_to == [v["valid_from"] for v in chain[1:]] + [None], arn
        row = rows[arn]
        last_kind, last_snapshot, last_at = expected[-1]
        assert row["version"] == len(expected)
        assert row["deleted_at"] == (last_at if last_kind == "deleted" else None), arn
        assert row["content_hash"] == chain[-1]["content_hash"]
        assert canonical(json.loads(last_snapshot).get("connectorProfileProperties")) == canonical(
            row["properties"]
        )
        assert row["first_seen_at"] == model.first_seen[arn]
        assert row["last_seen_at"] == model.last_seen[arn]


# --- values the model allows at its edges, on both databases ---------------------------------

EDGE_CASES: dict[str, dict[str, Any]] = {
    # Connector types and output enums are open-ended: AWS adds values botocore passes through.
    "a long new connection mode": {"connectionMode": "PrivateWithCrossRegionFailoverAndInspection"},
    "a long new failure cause": {
        "privateConnectionProvisioningState": {
            "status": "FAILED",
            "failureCause": "CONNECTOR_SERVER_CERTIFICATE_CHAIN_VALIDATION_FAILED_AFTER_ROTATION",
        }
    },
    # A property block AWS adds, nested deeper than the flattened `path` column allows.
    "a deeply nested new block": {
        "connectorType": "Futurebase",
        "connectorProfileProperties": {
            "Futurebase": {"a" * 120: {"b" * 120: {"c" * 120: {"d" * 120: {"e" * 40: True}}}}}
        },
    },
}


def test_nul_characters_are_refused_with_a_clear_error() -> None:
    """A NUL in any string (the model's `.*` admits it; PostgreSQL cannot store it) is refused.

    Refusing makes the listing fail as `invalid_response`, so its scope deletes nothing;
    storing a doctored value instead would invent data.
    """
    raw = {
        "connectorProfileArn": "arn:aws:appflow:us-east-1:123456789012:connectorprofile/edge",
        "connectorType": "Redshift",
        "connectorProfileProperties": {"Redshift": {"bucketPrefix": "raw/\x00/"}},
    }
    with pytest.raises(UnstorableRecord, match="NUL character"):
        normalize_profile(raw, "123456789012", "us-east-1")
    # A backslash followed by "u0000" is ordinary text, not a NUL.
    text = {**raw, "connectorProfileProperties": {"Redshift": {"bucketPrefix": "raw/\\u0000"}}}
    assert normalize_profile(text, "123456789012", "us-east-1").properties == {
        "Redshift": {"bucketPrefix": "raw/\\u0000"}
    }


def test_lone_surrogates_are_refused_with_a_clear_error() -> None:
    """JSON may escape half a surrogate pair (`"\\ud800"`): not text, so no UTF-8 database
    can store it. Refused like a NUL (its scope fails as `invalid_response`), never a crash."""
    raw = {
        "connectorProfileArn": "arn:aws:appflow:us-east-1:123456789012:connectorprofile/edge",
        "connectorType": "Redshift",
        "connectorProfileProperties": {"Redshift": {"bucketPrefix": json.loads('"raw/\\ud800"')}},
    }
    with pytest.raises(UnstorableRecord, match="lone UTF-16 surrogate"):
        normalize_profile(raw, "123456789012", "us-east-1")
    # A whole pair is one character, and text like any other.
    pair = {**raw, "connectorProfileProperties": {"Redshift": {"bucketPrefix": "\U0001f600"}}}
    assert normalize_profile(pair, "123456789012", "us-east-1").properties == {
        "Redshift": {"bucketPrefix": json.loads('"\\ud83d\\ude00"')}
    }


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_values_are_stored_on_either_database(case: str, database_url: str) -> None:
    """Values the model allows at its edges are stored and read back, on SQLite and PostgreSQL."""
    scope = Scope("123456789012", "us-east-1")
    raw = {
        "connectorProfileArn": "arn:aws:appflow:us-east-1:123456789012:connectorprofile/edge",
        "connectorProfileName": "edge",
        **EDGE_CASES[case],
    }
    at = datetime(2026, 1, 1, tzinfo=UTC)

    async def go() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        engine = create_engine(database_url)
        try:
            await upgrade(engine)
            record = normalize_profile(raw, scope.account_id, scope.region)
            await Store(engine).write_scopes("run", [outcome(scope, [record], at, complete=True)])
            async with engine.connect() as conn:
                rows = [dict(r._mapping) for r in await conn.execute(sa.select(connector_profiles))]
                snapshots = [
                    dict(r._mapping)
                    for r in await conn.execute(sa.select(connector_profile_versions))
                ]
            return rows, snapshots
        finally:
            await engine.dispose()

    rows, versions = asyncio.run(go())
    assert [r["connector_profile_arn"] for r in rows] == [raw["connectorProfileArn"]]
    assert canonical(rows[0]["properties"]) == canonical(raw.get("connectorProfileProperties", {}))
    assert [canonical(v["snapshot"]) for v in versions] == [canonical(expected_snapshot(raw))]
