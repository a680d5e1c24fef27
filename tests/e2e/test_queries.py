"""The read-side commands end to end: `changes`, `history`, `show`, `export` on both backends.

Each backend gets one inventory built by real `collector run` passes against the simulator,
with the organization changed between passes; the tests only read it, so they share it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from collector._errors import DatabaseError
from collector._model.resources.profiles import make_snapshot
from collector._model.wire import iso_utc
from collector._store import read_connection
from collector._store.schema import accounts as accounts_table
from collector.simulator import (
    PROFILES,
    Organization,
    Profile,
    Simulator,
    generate_organization,
    make_profile,
)

from ..support import Cli, CliResult, as_json, fetch, postgres_database, run_args, run_main

REGIONS = ("us-east-1", "eu-west-1")
Versions = set[tuple[str, int, str]]  # (arn, version, change_type)
# Options of a PostgreSQL database that sorts text by English rules, as most installations do.
# Such a collation orders case and punctuation unlike SQLite, which is what the commands'
# ordering must not depend on.
ENGLISH = "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"


@dataclass(frozen=True)
class Story:
    """An inventory collected three times, and what the tests expect to read back from it."""

    url: str
    before: datetime  # before the first run
    after: tuple[datetime, datetime, datetime]  # just after runs 1, 2 and 3
    live: tuple[dict[str, Profile], ...]  # the organization's profiles during runs 1, 2, 3
    written: tuple[Versions, ...]  # the versions runs 1, 2 and 3 wrote
    run_ids: tuple[str, ...]
    updated: str  # updated in runs 2 and 3
    deleted: str  # deleted in run 2, restored in run 3
    created: str  # created in run 2, deleted in run 3


def tell_story(url: str) -> Story:
    """Collect, update one profile, delete one and create one, collect, then restore the
    deleted one, update again, delete the new one, and collect a third time."""
    org = generate_organization(
        seed=23, accounts=4, empty_fraction=0.2, profiles_per_scope=(2, 8), regions=REGIONS
    )
    account, region = next(
        (a.id, r)
        for a in org.account_list()
        for r in REGIONS
        if len(org.items(PROFILES, a.id, r)) >= 2
    )
    update, delete = org.items(PROFILES, account, region)[:2]
    other = next(a.id for a in org.account_list() if a.id != account)
    create = make_profile("Slack", "new/crm+ops@eu", other, "eu-west-1", random.Random(7))
    # Names that code-point order and English collation sort differently (case, punctuation).
    for name in ("Zulu-crm", "alpha_crm", "alpha-crm", "alpha!crm"):
        org.put(
            PROFILES,
            account,
            region,
            make_profile("Slack", name, account, region, random.Random(name)),
        )
    arns = [str(p["connectorProfileArn"]) for p in (update, delete, create)]
    before = datetime.now(UTC)
    with Simulator(org) as sim:
        live1 = collect(url, sim, org)
        after1 = datetime.now(UTC)
        mode = "Private" if update.get("connectionMode") == "Public" else "Public"
        org.put(
            PROFILES,
            account,
            region,
            {**update, "connectionMode": mode, "lastUpdatedAt": 1_800_000_000.5},
        )
        org.delete(PROFILES, account, region, str(delete["connectorProfileName"]))
        org.put(PROFILES, other, "eu-west-1", create)
        live2 = collect(url, sim, org)
        after2 = datetime.now(UTC)
        org.put(PROFILES, account, region, {**live2[arns[0]], "credentialsArn": "arn:secret:v3"})
        org.put(PROFILES, account, region, delete)
        org.delete(PROFILES, other, "eu-west-1", str(create["connectorProfileName"]))
        live3 = collect(url, sim, org)
        after3 = datetime.now(UTC)
    runs = fetch(url, "SELECT run_id FROM collection_runs ORDER BY started_at")
    return Story(
        url=url,
        before=before,
        after=(after1, after2, after3),
        live=(live1, live2, live3),
        written=(
            {(arn, 1, "created") for arn in live1},
            {(arns[0], 2, "updated"), (arns[1], 2, "deleted"), (arns[2], 1, "created")},
            {(arns[0], 3, "updated"), (arns[1], 3, "restored"), (arns[2], 2, "deleted")},
        ),
        run_ids=tuple(r["run_id"] for r in runs),
        updated=arns[0],
        deleted=arns[1],
        created=arns[2],
    )


def collect(url: str, sim: Simulator, org: Organization) -> dict[str, Profile]:
    """One `collector run` pass; returns the profiles it should have seen, by ARN.

    It calls `run_main` rather than the `cli` fixture because the story is built once per
    module, outside any one test's output capture.
    """
    assert run_main(run_args(url, REGIONS), sim.env()) == 0
    return {
        str(p["connectorProfileArn"]): p
        for account in org.account_list()
        for region in REGIONS
        for p in org.items(PROFILES, account.id, region)
    }


@pytest.fixture(scope="module")
def sqlite_story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    return tell_story(f"sqlite:///{tmp_path_factory.mktemp('queries') / 'inventory.db'}")


@pytest.fixture(scope="module")
def postgresql_story() -> Iterator[Story]:
    for url in postgres_database(ENGLISH):
        yield tell_story(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def story(request: pytest.FixtureRequest) -> Story:
    story: Story = request.getfixturevalue(f"{request.param}_story")
    return story


@dataclass
class Reader:
    """Runs read-side commands against one database, as a user would."""

    url: str
    cli: Cli

    def run(self, *args: str, env: dict[str, str] | None = None) -> CliResult:
        command, *rest = args
        url = [] if env is not None else ["--database-url", self.url]
        return self.cli.run([command, *url, *rest], env)

    def json(self, *args: str) -> list[dict[str, Any]]:
        result = self.run(*args, "--format", "json")
        assert result.code == 0, result.err
        rows: list[dict[str, Any]] = json.loads(result.out)
        return rows


@pytest.fixture
def reader(story: Story, cli: Cli) -> Reader:
    return Reader(story.url, cli)


def at(moment: datetime) -> str:
    return moment.isoformat()


def versions(rows: list[dict[str, Any]]) -> Versions:
    return {(r["connector_profile_arn"], r["version"], r["change_type"]) for r in rows}


def test_changes_lists_exactly_the_versions_in_the_window(story: Story, reader: Reader) -> None:
    """`changes --since [--until]` returns the versions written in that window, newest first."""
    first, second, third = story.written
    assert versions(reader.json("changes", "--since", at(story.before))) == first | second | third
    assert versions(reader.json("changes", "--since", at(story.after[0]))) == second | third
    window = reader.json("changes", "--since", at(story.after[0]), "--until", at(story.after[1]))
    assert versions(window) == second
    assert {r["run_id"] for r in window} == {story.run_ids[1]}
    stamps = [r["valid_from"] for r in reader.json("changes", "--since", at(story.before))]
    assert stamps == sorted(stamps, reverse=True)
    assert all(s.endswith("Z") for s in stamps)
    assert reader.json("changes", "--since", at(story.after[2])) == []


def test_changes_rows_carry_the_profile_and_what_changed(story: Story, reader: Reader) -> None:
    """Each change row names its profile's account, region, type and name, and the fields."""
    rows = reader.json("changes", "--since", at(story.after[0]), "--until", at(story.after[1]))
    by_arn = {r["connector_profile_arn"]: r for r in rows}
    profile = story.live[1][story.updated]
    update = by_arn[story.updated]
    assert update["changed_fields"] == ["connectionMode", "lastUpdatedAt"]
    assert update["connector_profile_name"] == profile["connectorProfileName"]
    assert update["connector_type"] == profile["connectorType"]
    assert story.updated.split(":")[3:5] == [update["region"], update["account_id"]]
    assert by_arn[story.created]["changed_fields"] == []
    assert list(update) == [
        "valid_from",
        "change_type",
        "account_id",
        "region",
        "connector_type",
        "connector_profile_name",
        "connector_profile_arn",
        "version",
        "changed_fields",
        "run_id",
    ]


def test_changes_filters_by_account(story: Story, reader: Reader) -> None:
    """`--account` keeps only that account's changes, repeated or comma-separated."""
    account = story.updated.split(":")[4]
    other = story.created.split(":")[4]
    since = ("changes", "--since", at(story.after[0]))
    mine = versions(reader.json(*since, "--account", account))
    assert mine == {v for v in story.written[1] | story.written[2] if account in v[0]}
    both = versions(reader.json(*since, "--account", account, "--account", other))
    assert both == story.written[1] | story.written[2]
    assert versions(reader.json(*since, "--account", f"{account},{other}")) == both


def test_changes_accepts_ages_offsets_and_naive_times(story: Story, reader: Reader) -> None:
    """WHEN may be an age (`2h`), carry a UTC offset, or be naive (meaning UTC)."""
    everything = story.written[0] | story.written[1] | story.written[2]
    assert versions(reader.json("changes", "--since", "2h")) == everything
    assert versions(reader.json("changes", "--since", "120m", "--until", "0s")) == everything
    moment = story.after[0]
    plus_two = moment.astimezone(timezone(timedelta(hours=2))).isoformat()
    naive = moment.replace(tzinfo=None).isoformat()
    zulu = moment.isoformat().replace("+00:00", "Z")
    expected = story.written[1] | story.written[2]
    for form in (plus_two, naive, zulu):
        assert versions(reader.json("changes", "--since", form)) == expected, form


def test_history_returns_the_whole_chain_oldest_first(story: Story, reader: Reader) -> None:
    """`history ARN` lists every version in order, each closed when the next one began."""
    rows = reader.json("history", story.deleted)
    assert [(r["version"], r["change_type"]) for r in rows] == [
        (1, "created"),
        (2, "deleted"),
        (3, "restored"),
    ]
    assert [r["valid_to"] for r in rows[:-1]] == [r["valid_from"] for r in rows[1:]]
    assert rows[-1]["valid_to"] is None
    assert [r["run_id"] for r in rows] == list(story.run_ids)
    expected = make_snapshot(story.live[0][story.deleted])
    assert [r["snapshot"] for r in rows] == [expected, expected, expected]
    updates = reader.json("history", story.updated)
    assert [r["changed_fields"] for r in updates] == [
        [],
        ["connectionMode", "lastUpdatedAt"],
        ["credentialsArn"],
    ]
    assert [r["snapshot"] for r in updates] == [
        make_snapshot(live[story.updated]) for live in story.live
    ]


def test_history_csv_and_table_have_no_snapshot(story: Story, reader: Reader) -> None:
    """In CSV and table form, history has a header, changed_fields as text, and no snapshot."""
    result = reader.run("history", story.updated, "--format", "csv")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert list(rows[0]) == [
        "version",
        "change_type",
        "valid_from",
        "valid_to",
        "changed_fields",
        "run_id",
    ]
    assert [json.loads(r["changed_fields"]) for r in rows] == [
        [],
        ["connectionMode", "lastUpdatedAt"],
        ["credentialsArn"],
    ]
    assert rows[-1]["valid_to"] == ""
    table = reader.run("history", story.updated)
    assert table.code == 0
    assert table.out.splitlines()[0].split() == list(rows[0])
    assert len(table.out.splitlines()) == 4


def test_history_of_an_unknown_arn_exits_1(story: Story, reader: Reader) -> None:
    """`history` of an ARN never collected prints nothing, says so on stderr, and exits 1."""
    unknown = story.updated + "-never-seen"
    result = reader.run("history", unknown, "--format", "json")
    assert result.code == 1
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1
    assert unknown in result.err


def test_show_as_of_returns_the_inventory_at_that_moment(story: Story, reader: Reader) -> None:
    """`show --as-of` between two runs lists exactly the profiles that existed then."""
    assert reader.json("show", "--as-of", at(story.before)) == []
    for moment, live in zip(story.after, story.live, strict=True):
        rows = reader.json("show", "--as-of", at(moment))
        assert {r["connector_profile_arn"] for r in rows} == set(live)
        for row in rows:
            assert row["snapshot"] == make_snapshot(live[row["connector_profile_arn"]])
    versions_then = {
        r["connector_profile_arn"]: r["version"]
        for r in reader.json("show", "--as-of", at(story.after[1]))
    }
    assert versions_then[story.updated] == 2
    assert versions_then[story.created] == 1
    assert story.deleted not in versions_then


def test_a_version_is_valid_from_its_valid_from_included(story: Story, reader: Reader) -> None:
    """Windows are half-open: a version counts from its exact valid_from, and `--until` excludes."""
    _, deleted, restored = reader.json("history", story.deleted)
    tick = timedelta(microseconds=1)

    def shown(moment: datetime) -> bool:
        rows = reader.json("show", "--as-of", at(moment))
        return story.deleted in {r["connector_profile_arn"] for r in rows}

    gone, back = (datetime.fromisoformat(v["valid_from"]) for v in (deleted, restored))
    assert [shown(gone - tick), shown(gone), shown(back - tick), shown(back)] == [
        True,
        False,
        False,
        True,
    ]
    change = (story.deleted, 2, "deleted")
    assert change in versions(
        reader.json("changes", "--since", at(gone), "--until", at(gone + tick))
    )
    assert change not in versions(
        reader.json("changes", "--since", at(gone - tick), "--until", at(gone))
    )


def test_show_without_as_of_is_the_current_inventory(story: Story, reader: Reader) -> None:
    """`show` alone lists the profiles not deleted, in account, region and name order."""
    rows = reader.json("show")
    assert {r["connector_profile_arn"] for r in rows} == set(story.live[2])
    assert rows == reader.json("show", "--as-of", at(story.after[2]))
    keys = [(r["account_id"], r["region"], r["connector_profile_name"]) for r in rows]
    assert keys == sorted(keys)
    current = {r["connector_profile_arn"]: r["version"] for r in rows}
    assert (current[story.updated], current[story.deleted]) == (3, 3)
    assert list(rows[0]) == [
        "account_id",
        "region",
        "connector_type",
        "connector_profile_name",
        "connector_profile_arn",
        "version",
        "snapshot",
    ]


def test_show_filters_by_account(story: Story, reader: Reader) -> None:
    """`show --account` lists only that account's profiles."""
    account = story.created.split(":")[4]
    rows = reader.json("show", "--as-of", at(story.after[1]), "--account", account)
    assert {r["connector_profile_arn"] for r in rows} == {
        arn for arn in story.live[1] if arn.split(":")[4] == account
    }


def test_table_cells_line_up_under_the_header(story: Story, reader: Reader) -> None:
    """The table's columns start where their header starts, and hold the JSON's values."""
    window = ("changes", "--since", at(story.after[0]))
    table = reader.run(*window, "--format", "table", "--wide")
    assert table.code == 0, table.err
    header, *lines = table.out.splitlines()
    names = header.split()
    starts = [header.index(name) for name in names]
    cells = [
        [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        for line in lines
    ]
    expected = [
        [
            "-" if r[n] in ([], None) else ",".join(r[n]) if isinstance(r[n], list) else str(r[n])
            for n in names
        ]
        for r in reader.json(*window)
    ]
    assert cells == expected


def exported(url: str, *, include_deleted: bool = False) -> dict[str, dict[str, Any]]:
    """connector_profiles read back with plain SQL, in the export's JSON form, by ARN."""
    where = "" if include_deleted else "WHERE deleted_at IS NULL"
    rows = fetch(url, f"SELECT * FROM connector_profiles {where}")
    return {r["connector_profile_arn"]: {k: plain(k, v) for k, v in r.items()} for r in rows}


def plain(column: str, value: Any) -> Any:
    if column == "properties":
        return as_json(value)
    if isinstance(value, str) and column.endswith("_at"):
        value = datetime.fromisoformat(value)  # SQLite returns timestamps as text
    if isinstance(value, datetime):
        return iso_utc(value.replace(tzinfo=value.tzinfo or UTC))
    return value


def test_export_jsonl_round_trips_every_current_profile(story: Story, reader: Reader) -> None:
    """`export` writes one JSON object per current profile with every column, as stored."""
    result = reader.run("export")
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert {r["connector_profile_arn"]: r for r in rows} == exported(story.url)
    assert len(rows) == len(story.live[2])
    for row in rows:
        profile = story.live[2][row["connector_profile_arn"]]
        assert row["connector_profile_name"] == profile["connectorProfileName"]
        assert row["properties"] == profile.get("connectorProfileProperties", {})
        assert row["deleted_at"] is None
    with_deleted = [
        json.loads(line) for line in reader.run("export", "--include-deleted").out.splitlines()
    ]
    assert {r["connector_profile_arn"]: r for r in with_deleted} == exported(
        story.url, include_deleted=True
    )
    assert story.created in {r["connector_profile_arn"] for r in with_deleted}


def test_export_csv_round_trips_every_current_profile(
    story: Story, reader: Reader, tmp_path: Path
) -> None:
    """`export --format csv --output FILE` writes a header and every current profile."""
    target = tmp_path / "profiles.csv"
    result = reader.run("export", "--format", "csv", "--output", str(target))
    assert (result.code, result.out) == (0, "")
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    expected = exported(story.url)
    assert len(rows) == len(expected)
    for row in rows:
        stored = expected[row["connector_profile_arn"]]
        assert list(row) == list(stored)
        assert json.loads(row["properties"]) == stored["properties"]
        assert {k: v for k, v in row.items() if k != "properties"} == {
            k: "" if v is None else str(v) for k, v in stored.items() if k != "properties"
        }
    assert [p.name for p in tmp_path.iterdir()] == ["profiles.csv"]


def test_settings_come_from_environment_and_config_file(
    story: Story, reader: Reader, tmp_path: Path
) -> None:
    """`COLLECTOR_DATABASE_URL` and `database_url` in `--config` choose the database too."""
    expected = reader.run("show", "--format", "csv").out
    from_env = reader.run("show", "--format", "csv", env={"COLLECTOR_DATABASE_URL": story.url})
    assert (from_env.code, from_env.out) == (0, expected)
    config = tmp_path / "collector.toml"
    config.write_text(f"database_url = {json.dumps(story.url)}\n", encoding="utf-8")
    from_file = reader.run("show", "--format", "csv", "--config", str(config), env={})
    assert (from_file.code, from_file.out) == (0, expected)


@pytest.mark.slow
def test_reads_change_nothing_in_the_database(story: Story, reader: Reader) -> None:
    """Every read command leaves every table exactly as it was."""

    def everything() -> list[list[dict[str, Any]]]:
        tables = ("connector_profiles", "connector_profile_versions", "collection_runs")
        return [fetch(story.url, f"SELECT * FROM {t} ORDER BY 1") for t in tables] + [
            fetch(story.url, "SELECT version_num FROM alembic_version")
        ]

    before = everything()
    for args in (
        ("changes", "--since", "1d"),
        ("history", story.updated),
        ("show",),
        ("show", "--as-of", "1d"),
        ("export", "--include-deleted"),
    ):
        assert reader.run(*args).code == 0
    assert everything() == before


def test_results_are_the_same_on_sqlite_and_postgresql(
    sqlite_story: Story, postgresql_story: Story, cli: Cli
) -> None:
    """The same history gives the same output on both backends, but for times and run ids."""

    def outputs(story: Story) -> list[Any]:
        read = Reader(story.url, cli)
        collected = ("valid_from", "valid_to", "run_id", "first_seen_at", "last_seen_at")

        def scrub(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                {k: (v is not None) if k in (*collected, "deleted_at") else v for k, v in r.items()}
                for r in rows
            ]

        changes = scrub(read.json("changes", "--since", at(story.before)))
        export = read.run("export", "--include-deleted").out.splitlines()
        return [
            sorted(changes, key=lambda r: (r["connector_profile_arn"], r["version"])),
            scrub(read.json("history", story.deleted)),
            read.run("show", "--as-of", at(story.after[1]), "--format", "json").out,
            read.run("show", "--format", "csv").out,
            read.run("show").out,
            scrub([json.loads(line) for line in export]),
        ]

    assert outputs(sqlite_story) == outputs(postgresql_story)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["changes", "--since", "yesterday"], "--since 'yesterday' is not a time"),
        (["changes", "--since", "7x"], "--since '7x' is not a time"),
        (["changes", "--since", "2026-13-01"], "--since '2026-13-01' is not a time"),
        (["changes", "--since", "999999999d"], "is not a time"),
        (["changes", "--since", "1d", "--until", "2d"], "--until must be later than --since"),
        (["changes"], "--since"),
        (["show", "--as-of", "soon"], "--as-of 'soon' is not a time"),
        (["show", "--account", "12345"], "account id '12345' is not 12 digits"),
        (["export", "--format", "yaml"], "invalid choice"),
        (["history"], "ARN"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], message: str, empty_sqlite_url: str, cli: Cli
) -> None:
    """A bad WHEN, account or format exits 2 with one line on stderr, and opens no database."""
    result = cli.run([*args, "--database-url", empty_sqlite_url])
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert message in result.err
    assert not Path(empty_sqlite_url.removeprefix("sqlite:///")).exists()


@pytest.mark.parametrize(
    "args",
    [
        ["changes", "--since", "1d", "--format", "csv"],
        ["history", "arn:aws:appflow:us-east-1:123456789012:connectorprofile/x"],
        ["show"],
        ["export"],
    ],
)
def test_a_database_without_the_schema_exits_3(
    args: list[str], database_url: str, cli: Cli
) -> None:
    """Reading a database never migrated exits 3 and asks for `db upgrade`, creating nothing."""
    result = cli.run([*args, "--database-url", database_url])
    assert (result.code, result.out) == (3, "")
    assert "run `collector db upgrade` first" in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    if database_url.startswith("sqlite"):
        assert not Path(database_url.removeprefix("sqlite:///")).exists()
    else:
        tables = fetch(
            database_url,
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
        )
        assert tables == [{"n": 0}]


def test_read_connections_refuse_writes(database_url: str, cli: Cli) -> None:
    """The connection every read command uses rejects writes on both backends."""
    upgrade = cli.run(["db", "upgrade", "--database-url", database_url])
    assert upgrade.code == 0, upgrade.err

    async def write() -> None:
        async with read_connection(database_url) as conn:
            await conn.execute(
                sa.insert(accounts_table).values(
                    account_id="123456789012", source="explicit", last_seen_at=datetime.now(UTC)
                )
            )

    with pytest.raises(DatabaseError):
        asyncio.run(write())
    assert fetch(database_url, "SELECT count(*) AS n FROM accounts") == [{"n": 0}]
