"""The SQL page's queries about custom connectors, run as written on SQLite and PostgreSQL
against an inventory collected from the simulator."""

from __future__ import annotations

import random
from typing import Any

import pytest

from collector.simulator import (
    CONNECTORS,
    PROFILES,
    Account,
    Organization,
    Simulator,
    generate_organization,
    make_connector,
    make_profile,
)

from ..docs import code_blocks, section
from ..support import Cli, as_json, fetch

ACCOUNT = "123456789012"
REGION = "eu-west-1"
REGIONS = ("us-east-1", REGION)
SECTION = "## Custom connectors"


def page_queries() -> list[str]:
    """The SQL blocks of the SQL page's section on custom connectors, in order."""
    return [b.text for b in code_blocks(section("sql.md", SECTION)) if b.lang == "sql"]


def for_dialect(url: str) -> list[str]:
    """The blocks that run on this database: the portable ones and its own."""
    own = "-- PostgreSQL" if url.startswith("postgresql") else "-- SQLite"
    return [q for q in page_queries() if not q.startswith("-- ") or q.startswith(own)]


@pytest.fixture
def org() -> Organization:
    """Account 123456789012 in eu-west-1 holds the profiles `zoho` (label `ZohoCRM`) and
    `jira` (label `jira-cloud`, never registered), and the registrations `ZohoCRM`,
    `acme_erp` (used by no profile) and `retired` (deregistered between two runs); the
    other accounts hold profiles and what the generator registers for them."""
    organization = generate_organization(
        seed=83,
        accounts=3,
        empty_fraction=0.5,
        regions=REGIONS,
        flows_per_profile=0.0,
        # Full pages: a scope of a hundred one-profile pages would spend seconds in the
        # account's pacing, and paging is not what the queries are about.
        short_page_fraction=0.0,
    )
    organization.add_account(
        Account(ACCOUNT, "examples", "aws+examples@example.com", organization.root_id)
    )
    rng = random.Random(9)
    for name, label in (("zoho", "ZohoCRM"), ("jira", "jira-cloud")):
        profile = make_profile("CustomConnector", name, ACCOUNT, REGION, rng, connectorLabel=label)
        organization.put(PROFILES, ACCOUNT, REGION, profile)
    for label in ("ZohoCRM", "acme_erp", "retired"):
        organization.put(CONNECTORS, ACCOUNT, REGION, make_connector(label, ACCOUNT, REGION, rng))
    return organization


def names(rows: list[dict[str, Any]], *columns: str) -> set[tuple[Any, ...]]:
    return {tuple(row[c] for c in columns) for row in rows}


def mine(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the examples' account and region."""
    return [r for r in rows if (r["account_id"], r["region"]) == (ACCOUNT, REGION)]


def test_the_page_has_the_four_questions() -> None:
    """The section holds the four queries, the last one for each database."""
    queries = page_queries()
    assert len(queries) == 5
    assert [q.splitlines()[0] for q in queries[3:]] == ["-- PostgreSQL", "-- SQLite"]


def test_connector_queries_answer_on_both_databases(
    database_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Profiles with their connector's function and version, connectors no profile uses,
    profiles whose label is not registered, and the week's registration changes, each as the
    page writes it."""
    assert cli.collect(database_url, sim, REGIONS).code == 0
    zoho = org.item(CONNECTORS, ACCOUNT, REGION, "ZohoCRM")
    assert zoho is not None
    org.put(CONNECTORS, ACCOUNT, REGION, {**zoho, "connectorVersion": "7.0"})
    org.delete(CONNECTORS, ACCOUNT, REGION, "retired")
    assert cli.collect(database_url, sim, REGIONS).code == 0
    used, unused, unregistered, changes = (
        fetch(database_url, q) for q in for_dialect(database_url)
    )

    function = zoho["connectorProvisioningConfig"]["lambda"]["lambdaArn"]
    assert names(mine(used), "connector_profile_name", "connector_version", "lambda_arn") == {
        ("zoho", "7.0", function)
    }
    live = {
        (account, region, str(c["connectorLabel"]))
        for (account, region), c in org.all_items(CONNECTORS)
    }
    named = {
        (account, region, p.get("connectorLabel"))
        for (account, region), p in org.all_items(PROFILES)
    }
    assert names(unused, "account_id", "region", "connector_label") == live - named
    assert names(mine(unused), "connector_label") == {("acme_erp",)}
    assert names(mine(unregistered), "connector_profile_name", "connector_label") == {
        ("jira", "jira-cloud")
    }
    assert sorted(
        (r["connector_label"], r["change_type"], tuple(as_json(r["changed_fields"])))
        for r in mine(changes)
    ) == [
        ("ZohoCRM", "created", ()),
        ("ZohoCRM", "updated", ("connectorVersion",)),
        ("acme_erp", "created", ()),
        ("retired", "created", ()),
        ("retired", "deleted", ()),
    ]
    stamps = [r["valid_from"] for r in changes]
    assert stamps == sorted(stamps, reverse=True)
