"""The everyday questions without SQL, end to end on both databases: `show`'s filters,
`history` by name and `--diff`, `changes --run` and `--change-type`, `runs`, `query`, and
the output contract every read command shares (formats, `--columns`, width, headers).

Each backend gets one inventory of three runs (the third with a scope denied), built once;
the tests only read it.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from collector.simulator import (
    PROFILES,
    Faults,
    Simulator,
    generate_organization,
    make_profile,
)

from ..support import Cli, CliResult, fetch, postgres_database, run_args, run_main

REGIONS = ("us-east-1", "eu-west-1")
NAMES = ("crm-live", "Crm-Live", "crm-sandbox", "hr")


@dataclass(frozen=True)
class Inventory:
    url: str
    home: str
    """The account holding every name of `NAMES` in us-east-1."""
    other: str
    """An account holding `crm-live` in eu-west-1 too."""
    run_ids: tuple[str, ...]
    """Oldest first."""


def build(url: str) -> Inventory:
    """Collect; change crm-sandbox's mode and instance URL; collect; deny one scope; collect."""
    org = generate_organization(
        seed=61, accounts=3, empty_fraction=0.3, profiles_per_scope=(1, 3), regions=REGIONS
    )
    home, other = (a.id for a in org.account_list()[1:3])
    rng = random.Random(3)
    for name, kind in zip(NAMES, ("Salesforce", "Salesforce", "Salesforce", "Slack"), strict=True):
        org.put(PROFILES, home, "us-east-1", make_profile(kind, name, home, "us-east-1", rng))
    org.put(
        PROFILES, other, "eu-west-1", make_profile("Slack", "crm-live", other, "eu-west-1", rng)
    )
    faults = Faults()
    with Simulator(org, faults=faults) as sim:
        assert run_main(run_args(url, REGIONS), sim.env()) == 0
        sandbox = org.item(PROFILES, home, "us-east-1", "crm-sandbox")
        assert sandbox is not None
        changed = {
            **sandbox,
            "connectionMode": "Private" if sandbox.get("connectionMode") == "Public" else "Public",
        }
        changed["connectorProfileProperties"] = {
            "Salesforce": {"instanceUrl": "https://new.example.com"}
        }
        org.put(PROFILES, home, "us-east-1", changed)
        assert run_main(run_args(url, REGIONS), sim.env()) == 0
        faults.failing_scopes[(other, "eu-west-1")] = "AccessDeniedException"
        assert run_main(run_args(url, REGIONS), sim.env()) == 1
    runs = fetch(url, "SELECT run_id FROM collection_runs ORDER BY started_at")
    return Inventory(url, home, other, tuple(r["run_id"] for r in runs))


@pytest.fixture(scope="module")
def sqlite_inventory(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    return build(f"sqlite:///{tmp_path_factory.mktemp('reads') / 'inventory.db'}")


@pytest.fixture(scope="module")
def postgresql_inventory() -> Iterator[Inventory]:
    for url in postgres_database():
        yield build(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def inventory(request: pytest.FixtureRequest) -> Inventory:
    found: Inventory = request.getfixturevalue(f"{request.param}_inventory")
    return found


@dataclass
class Reader:
    url: str
    cli: Cli

    def run(self, *args: str, env: dict[str, str] | None = None) -> CliResult:
        command, *rest = args
        return self.cli.run([command, "--database-url", self.url, *rest], env)

    def json(self, *args: str) -> list[dict[str, Any]]:
        result = self.run(*args, "--format", "json")
        assert result.code == 0, result.err
        rows: list[dict[str, Any]] = json.loads(result.out)
        return rows


@pytest.fixture
def reader(inventory: Inventory, cli: Cli) -> Reader:
    return Reader(inventory.url, cli)


def names(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((r["account_id"], r["region"], r["connector_profile_name"]) for r in rows)


# --- show's filters -----------------------------------------------------------------------------


def test_show_filters_by_region_type_and_account(inventory: Inventory, reader: Reader) -> None:
    """`--regions`, `--connector-type` and `--accounts` narrow `show` as the SQL would."""
    every = reader.json("show")
    in_eu = reader.json("show", "--regions", "eu-west-1")
    assert in_eu == [r for r in every if r["region"] == "eu-west-1"]
    slack = reader.json("show", "--connector-type", "Slack,Redshift")
    assert slack == [r for r in every if r["connector_type"] in ("Slack", "Redshift")]
    mine = reader.json("show", "--accounts", inventory.home, "--regions", "us-east-1")
    assert {r["connector_profile_name"] for r in mine} >= set(NAMES)
    assert {r["account_id"] for r in mine} == {inventory.home}


def test_show_matches_names_exactly_or_by_pattern_with_case(
    inventory: Inventory, reader: Reader
) -> None:
    """`--name` is exact, or a pattern with * and ?, case-sensitive on both databases."""
    home, other = inventory.home, inventory.other
    assert names(reader.json("show", "--name", "crm-live")) == sorted(
        [(other, "eu-west-1", "crm-live"), (home, "us-east-1", "crm-live")]
    )
    assert names(reader.json("show", "--name", "crm-*", "--accounts", home)) == [
        (home, "us-east-1", "crm-live"),
        (home, "us-east-1", "crm-sandbox"),
    ]
    assert names(reader.json("show", "--name", "?rm-Live")) == [(home, "us-east-1", "Crm-Live")]
    assert reader.json("show", "--name", "CRM*") == []


def test_flows_match_a_connector_type_at_either_end(reader: Reader) -> None:
    """A flow matches `--connector-type` by its source's type or its destination's."""
    every = reader.json("show", "--resources", "flows")
    assert every
    kind = every[0]["source_connector_type"]
    matched = reader.json("show", "--resources", "flows", "--connector-type", kind)
    assert matched == [
        r for r in every if kind in (r["source_connector_type"], r["destination_connector_type"])
    ]


def test_a_resource_without_connector_types_refuses_the_filter(reader: Reader) -> None:
    """`--connector-type` on custom connectors is bad input (exit 2), not an empty answer."""
    result = reader.run("show", "--resources", "connectors", "--connector-type", "Slack")
    assert result.code == 2
    assert "custom connectors have no connector type" in result.err


# --- history by name, and its diff ------------------------------------------------------------


def test_history_by_name_alone_when_it_is_unique(inventory: Inventory, reader: Reader) -> None:
    """`history NAME` gives the versions of the one record of that name."""
    rows = reader.json("history", "crm-sandbox")
    assert [(r["version"], r["change_type"]) for r in rows] == [(1, "created"), (2, "updated")]
    assert rows[-1]["run_id"] == inventory.run_ids[1]


def test_an_ambiguous_name_lists_its_records_and_exits_2(
    inventory: Inventory, reader: Reader
) -> None:
    """A name several records share is refused, naming each, until the account or region
    chooses one."""
    result = reader.run("history", "crm-live")
    assert result.code == 2
    assert "crm-live names 2 records" in result.err
    assert f"profiles {inventory.home} us-east-1" in result.err
    assert f"profiles {inventory.other} eu-west-1" in result.err
    chosen = reader.json("history", "crm-live", "--regions", "eu-west-1")
    assert [r["change_type"] for r in chosen] == ["created"]
    assert reader.json("history", "crm-live", "--accounts", inventory.home)[0]["version"] == 1


def test_an_unknown_name_exits_1(reader: Reader) -> None:
    """A name no record has prints nothing, says so in one line, and exits 1."""
    result = reader.run("history", "no-such-profile")
    assert (result.code, result.out) == (1, "")
    assert result.err.strip() == (
        "collector: no profile or flow or connector named no-such-profile in the inventory"
    )


def test_history_diff_shows_old_and_new_values(reader: Reader) -> None:
    """`history --diff` has a row per changed field with its value before and after."""
    rows = reader.json("history", "crm-sandbox", "--diff")
    created, *updated = rows
    assert (created["version"], created["field"]) == (1, None)
    changes = {r["field"]: (r["old"], r["new"]) for r in updated}
    mode = changes["connectionMode"]
    assert set(mode) == {"Public", "Private"}
    assert changes["connectorProfileProperties.Salesforce.instanceUrl"][1] == (
        "https://new.example.com"
    )
    assert all(r["version"] == 2 and r["change_type"] == "updated" for r in updated)


# --- changes and runs -------------------------------------------------------------------------


def test_changes_of_one_run_and_of_some_types(inventory: Inventory, reader: Reader) -> None:
    """`changes --run` gives what one run wrote (`last`, an id or its start), without a time
    window; `--change-type` keeps some kinds."""
    first, second, _ = inventory.run_ids
    created = reader.json("changes", "--run", first)
    assert created
    assert {r["change_type"] for r in created} == {"created"}
    updated = reader.json("changes", "--run", second[:8])
    assert [(r["connector_profile_name"], r["change_type"]) for r in updated] == [
        ("crm-sandbox", "updated")
    ]
    assert reader.json("changes", "--run", "last") == []
    everything = reader.json("changes", "--since", "1d", "--change-type", "updated")
    assert everything == updated
    assert reader.run("changes", "--run", "ffffffff").code == 1


def test_changes_takes_a_bare_number_of_seconds(reader: Reader) -> None:
    """`--since 90` is 90 seconds ago, as every duration."""
    assert reader.json("changes", "--since", "90") == reader.json("changes", "--since", "90s")


def test_runs_lists_the_runs_with_their_counts_and_failures(
    inventory: Inventory, reader: Reader
) -> None:
    """`runs` shows each run newest first with its status, scopes, records listed per
    resource, versions written and failures by code; they agree with the tables."""
    rows = reader.json("runs")
    assert [r["run_id"] for r in rows] == list(reversed(inventory.run_ids))
    assert [r["status"] for r in rows] == ["partial", "succeeded", "succeeded"]
    assert rows[0]["failures"] == "access_denied 1"
    assert rows[1]["failures"] is None
    assert rows[1]["changes"] == 1
    stored = fetch(
        inventory.url,
        "SELECT run_id, resource, seen FROM collection_run_resources",
    )
    for row in rows:
        for resource in ("profiles", "flows", "connectors"):
            (seen,) = [
                s["seen"]
                for s in stored
                if (s["run_id"], s["resource"]) == (row["run_id"], resource)
            ]
            assert row[resource] == seen
        assert row["duration"] >= 0
    assert [r["run_id"] for r in reader.json("runs", "--status", "partial")] == [
        inventory.run_ids[2]
    ]
    assert len(reader.json("runs", "--limit", "1")) == 1


def test_runs_of_one_run_list_its_failed_scopes(inventory: Inventory, reader: Reader) -> None:
    """`runs --run last` lists the run's failed and skipped scopes with their errors."""
    rows = reader.json("runs", "--run", "last")
    failed = [r for r in rows if r["status"] == "failed"]
    assert [
        (r["account_id"], r["region"], r["error_code"], r["aws_error_code"]) for r in failed
    ] == [(inventory.other, "eu-west-1", "access_denied", "AccessDeniedException")]
    assert all(r["status"] in ("failed", "skipped") for r in rows)


# --- query ------------------------------------------------------------------------------------


def test_query_prints_rows_in_every_format(inventory: Inventory, reader: Reader) -> None:
    """`query` runs the statement and prints its rows as the other read commands do."""
    sql = (
        "SELECT account_id, count(*) AS profiles FROM connector_profiles "
        "WHERE deleted_at IS NULL GROUP BY account_id ORDER BY account_id"
    )
    expected = fetch(inventory.url, sql)
    assert reader.json("query", sql) == expected
    rows = list(csv.DictReader(io.StringIO(reader.run("query", sql, "-o", "csv").out)))
    assert [(r["account_id"], int(r["profiles"])) for r in rows] == [
        (r["account_id"], r["profiles"]) for r in expected
    ]
    lines = reader.run("query", sql, "-o", "jsonl").out.splitlines()
    assert [json.loads(line) for line in lines] == expected
    colon = reader.json("query", "SELECT ':name' AS a, '100%' AS b")
    assert colon == [{"a": ":name", "b": "100%"}]


WRITES = {
    "both": [
        "DELETE FROM accounts",
        "UPDATE connector_profiles SET connector_profile_name = 'x'",
        "INSERT INTO accounts (account_id, source, last_seen_at) VALUES ('1', 'x', '2026-01-01')",
        "CREATE TABLE stolen (a INTEGER)",
        "DROP TABLE accounts",
        "SELECT 1; DELETE FROM accounts",
    ],
    "sqlite": [
        "PRAGMA query_only = OFF",
        "ATTACH DATABASE 'planted.db' AS p",
        "PRAGMA user_version = 7",
    ],
    "postgresql": [
        "WITH gone AS (DELETE FROM accounts RETURNING *) SELECT count(*) FROM gone",
        "SET TRANSACTION READ WRITE",
        "SELECT set_config('transaction_read_only', 'off', false)",
    ],
}


def test_the_database_refuses_every_write_of_a_query(
    inventory: Inventory, reader: Reader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes are refused by the database, whatever the statement: exit 2 with its one-line
    reason, and every table as it was."""
    monkeypatch.chdir(tmp_path)
    dialect = "postgresql" if inventory.url.startswith("postgresql") else "sqlite"

    def everything() -> list[Any]:
        return [
            fetch(inventory.url, f"SELECT * FROM {t} ORDER BY 1")
            for t in ("accounts", "connector_profiles", "collection_runs")
        ]

    before = everything()
    for sql in [*WRITES["both"], *WRITES[dialect]]:
        result = reader.run("query", sql)
        assert result.code == 2, sql
        assert result.err.startswith("collector: error: the database refused the query: "), sql
        assert len(result.err.splitlines()) == 1, sql
    assert everything() == before
    assert list(tmp_path.iterdir()) == []


# --- the output contract ----------------------------------------------------------------------


def test_a_pipe_gets_tab_separated_values(reader: Reader) -> None:
    """Without `--format`, a pipe gets TSV: the header, then each row, one cell per column."""
    result = reader.run("show")
    header, *lines = result.out.splitlines()
    columns = header.split("\t")
    assert columns == [
        "account_id",
        "region",
        "connector_type",
        "connector_profile_name",
        "connector_profile_arn",
        "version",
    ]
    rows = reader.json("show")
    assert [line.split("\t") for line in lines] == [[str(r[c]) for c in columns] for r in rows]


def test_columns_choose_and_order_and_headers_can_go(reader: Reader) -> None:
    """`--columns` prints those columns in that order (any column of the record), and
    `--no-headers` leaves the header out."""
    result = reader.run(
        "show", "--columns", "connector_profile_name,connection_mode", "--no-headers", "-o", "csv"
    )
    rows = list(csv.reader(io.StringIO(result.out)))
    expected = reader.json("show", "--columns", "connector_profile_name,connection_mode")
    assert rows == [[r["connector_profile_name"], r["connection_mode"] or ""] for r in expected]
    assert set(expected[0]) == {"connector_profile_name", "connection_mode"}


def test_an_unknown_column_is_named_with_the_one_meant(reader: Reader) -> None:
    """A column the command cannot print is bad input, with the closest real one."""
    result = reader.run("show", "--columns", "acount_id")
    assert result.code == 2
    assert "no column 'acount_id' here (did you mean account_id?" in result.err


def test_a_table_fits_the_terminal_unless_wide(reader: Reader) -> None:
    """A table fits `COLUMNS`, leaving out the ARN and saying so on stderr; `--wide` shows
    it whole."""
    fitted = reader.run(
        "show", "-o", "table", env={"COLUMNS": "72", "COLLECTOR_DATABASE_URL": reader.url}
    )
    assert fitted.code == 0, fitted.err
    assert all(len(line) <= 72 for line in fitted.out.splitlines())
    assert "connector_profile_arn" not in fitted.out
    assert "left out to fit the terminal: connector_profile_arn" in fitted.err
    wide = reader.run("show", "-o", "table", "--wide", env={"COLUMNS": "72"})
    assert "connector_profile_arn" in wide.out.splitlines()[0]
    assert wide.err == ""


def test_the_old_spellings_still_work(inventory: Inventory, reader: Reader) -> None:
    """`--account`, `--resource` and `--csv-raw`, and export's jsonl default, stay."""
    assert reader.json("show", "--account", inventory.home) == reader.json(
        "show", "--accounts", inventory.home
    )
    assert reader.json("show", "--resource", "flows") == reader.json("show", "--resources", "flows")
    raw = reader.run("export", "--format", "csv", "--csv-raw")
    assert raw.out == reader.run("export", "--format", "csv", "--raw").out
    lines = reader.run("export").out.splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines)
    assert json.loads(reader.run("export", "-o", "json").out) == [
        json.loads(line) for line in lines
    ]


def test_a_missing_database_says_which_and_how_to_choose(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read command on a database that does not exist names it and how to read another,
    and creates nothing."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COLLECTOR_DATABASE_URL", raising=False)
    result = cli.run(["show"])
    assert result.code == 3
    assert result.err.strip() == (
        "collector: cannot run: database sqlite:///collector.db does not exist: choose the "
        "inventory to read with --database-url (or COLLECTOR_DATABASE_URL), or run "
        "`collector db upgrade` first to start an empty one"
    )
    assert list(tmp_path.iterdir()) == []
