"""Every SQL query of the README and the docs/ pages, run as written on SQLite and PostgreSQL
against an inventory collected from the simulator; the profile queries of the SQL page give
the answers their questions promise."""

from __future__ import annotations

import random
from typing import Any

import pytest

from collector.simulator import (
    Organization,
    Simulator,
    generate_organization,
    make_profile,
    mutate,
)

from ..docs import Query, queries
from ..support import Cli, fetch

REGION = "eu-west-1"
REGIONS = ("us-east-1", REGION)


@pytest.fixture
def org() -> Organization:
    """A small organization with profiles and flows in two regions."""
    return generate_organization(
        seed=23, accounts=4, empty_fraction=0.4, regions=REGIONS, profiles_per_scope=(1, 5)
    )


def dialect(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def collected(url: str, org: Organization, sim: Simulator, cli: Cli) -> None:
    """Two passes with profiles and flows created, updated and deleted between them, among
    them, in one account's eu-west-1, a Salesforce profile on a sandbox (`crm`) and one not
    (`crm-live`)."""
    assert cli.collect(url, sim, REGIONS).code == 0
    mutate(org, random.Random(3), creates=2, updates=2, deletes=1, flow_updates=1)
    account = org.account_list()[1].id
    rng = random.Random(5)
    for name, sandbox in (("crm", True), ("crm-live", False)):
        profile = make_profile("Salesforce", name, account, REGION, rng)
        profile["connectorProfileProperties"]["Salesforce"]["isSandboxEnvironment"] = sandbox
        org.put_profile(account, REGION, profile)
    assert cli.collect(url, sim, REGIONS).code == 0


def the(found: list[Query], *fragments: str) -> Query:
    """The one query whose text holds every fragment."""
    (query,) = [q for q in found if all(f in q.sql for f in fragments)]
    return query


def live_profiles(org: Organization) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (account.id, region, profile)
        for account in org.account_list()
        for region in REGIONS
        for profile in org.profiles(account.id, region)
    ]


def test_the_pages_hold_queries_for_both_databases() -> None:
    """The docs give queries on their pages, some for PostgreSQL alone and some for SQLite
    alone; the collector's SQL page holds most of them."""
    found = queries()
    assert len([q for q in found if q.page == "sql.md"]) >= 15
    assert any(q.dialects == {"postgresql"} for q in found)
    assert any(q.dialects == {"sqlite"} for q in found)


def test_every_documented_query_runs_as_written(
    database_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Each query written for this database runs on it without an error, as written."""
    collected(database_url, org, sim, cli)
    mine = [q for q in queries() if dialect(database_url) in q.dialects]
    assert mine
    for query in mine:
        try:
            fetch(database_url, query.sql)
        except Exception as error:  # name the page and the query that failed
            pytest.fail(f"{query.page}: {query.sql}\n{type(error).__name__}: {error}")


def test_profile_queries_answer_their_questions(
    database_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Sandbox profiles (from the properties table and from the JSON column alike), the
    changes of the last 7 days, the inventory of 1 November (before anything was seen),
    empty accounts and profile counts match what the simulator holds."""
    collected(database_url, org, sim, cli)
    own = [q for q in queries() if q.page == "sql.md" and dialect(database_url) in q.dialects]
    truth = live_profiles(org)

    salesforce = {
        (account, region, str(p["connectorProfileName"])): (
            p.get("connectorProfileProperties") or {}
        ).get("Salesforce", {})
        for account, region, p in truth
        if p["connectorType"] == "Salesforce"
    }
    sandboxes = {k for k, v in salesforce.items() if v.get("isSandboxEnvironment") is True}
    assert sandboxes
    assert sandboxes != salesforce.keys()
    for query in (
        the(own, "pp.path = 'isSandboxEnvironment'"),
        the(own, "isSandboxEnvironment", "FROM connector_profiles\nWHERE"),
    ):
        rows = fetch(database_url, query.sql)
        assert {(r["account_id"], r["region"], r["connector_profile_name"]) for r in rows} == (
            sandboxes
        ), query.sql

    versions = fetch(database_url, "SELECT count(*) AS n FROM connector_profile_versions")
    week = fetch(database_url, the(own, "connector_profile_versions v JOIN", "7 days").sql)
    assert len(week) == versions[0]["n"] > len(truth)

    assert fetch(database_url, the(own, "connector_profile_arn = 'arn:aws:appflow:").sql) == []
    assert fetch(database_url, the(own, "change_type <> 'deleted'").sql) == []

    verdicts = {r["account_id"]: r["verdict"] for r in fetch(database_url, the(own, "verdict").sql)}
    holding = {account for account, _, _ in truth}
    assert verdicts == {
        account.id: "has profiles" if account.id in holding else "empty"
        for account in org.account_list()
    }

    counts = fetch(database_url, the(own, "GROUP BY account_id, connector_type").sql)
    assert sum(r["profiles"] for r in counts) == len(truth)
