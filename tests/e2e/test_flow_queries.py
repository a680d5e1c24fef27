"""The SQL page's queries about connector profiles and their flows, run as written on SQLite
and PostgreSQL against an inventory collected from the simulator."""

from __future__ import annotations

import random
from typing import Any

import pytest

from collector.simulator import (
    FLOWS,
    PROFILES,
    Account,
    End,
    Organization,
    Simulator,
    generate_organization,
    make_flow,
    make_profile,
    revise_flow,
)

from ..docs import code_blocks, section
from ..support import Cli, as_json, fetch

ACCOUNT = "123456789012"  # the account the examples name
REGION = "eu-west-1"
REGIONS = ("us-east-1", REGION)
SECTION = "## Connector profiles and their flows"


def page_queries() -> list[str]:
    """The SQL blocks of the SQL page's section on profiles and flows, in order."""
    return [b.text for b in code_blocks(section("sql.md", SECTION)) if b.lang == "sql"]


def for_dialect(url: str) -> list[str]:
    """The blocks that run on this database: the portable ones and its own."""
    own = "-- PostgreSQL" if url.startswith("postgresql") else "-- SQLite"
    return [q for q in page_queries() if not q.startswith("-- ") or q.startswith(own)]


@pytest.fixture
def org() -> Organization:
    """An organization whose account 123456789012 holds, in eu-west-1, the profiles `crm`,
    `warehouse`, `unused` and `doomed`, and flows between them (one naming a profile that
    never existed); its other accounts hold profiles and no flows."""
    organization = generate_organization(
        seed=81, accounts=3, empty_fraction=0.5, regions=REGIONS, flows_per_profile=0.0
    )
    organization.add_account(
        Account(ACCOUNT, "examples", "aws+examples@example.com", organization.root_id)
    )
    rng = random.Random(8)
    for kind, name in (
        ("Salesforce", "crm"),
        ("Redshift", "warehouse"),
        ("Slack", "unused"),
        ("Snowflake", "doomed"),
    ):
        organization.put(PROFILES, ACCOUNT, REGION, make_profile(kind, name, ACCOUNT, REGION, rng))
    for name, source, destination, status in (
        ("crm-to-warehouse", "crm", "warehouse", "Active"),
        ("crm-archive", "crm", None, "Suspended"),
        ("ghost-to-warehouse", "ghost", "warehouse", "Active"),
        ("crm-to-doomed", "crm", "doomed", "Active"),
    ):
        end = End("Redshift", destination) if destination else End("S3")
        flow = make_flow(
            name, ACCOUNT, REGION, rng, End("Salesforce", source), [end], status=status
        )
        organization.put(FLOWS, ACCOUNT, REGION, flow)
    return organization


def run_story(url: str, org: Organization, sim: Simulator, cli: Cli) -> None:
    """Collect; delete the profile `doomed`, update one flow and delete another; collect."""
    assert cli.collect(url, sim, REGIONS).code == 0
    org.delete(PROFILES, ACCOUNT, REGION, "doomed")
    flow = org.item(FLOWS, ACCOUNT, REGION, "crm-to-warehouse")
    assert flow is not None
    org.put(FLOWS, ACCOUNT, REGION, revise_flow(flow, random.Random(1), 1_900_000_000.0))
    org.delete(FLOWS, ACCOUNT, REGION, "crm-archive")
    assert cli.collect(url, sim, REGIONS).code == 0


def names(rows: list[dict[str, Any]], *columns: str) -> set[tuple[Any, ...]]:
    return {tuple(row[c] for c in columns) for row in rows}


def test_the_page_has_the_four_questions() -> None:
    """The section holds the four queries, the last one for each database."""
    queries = page_queries()
    assert len(queries) == 5
    assert [q.splitlines()[0] for q in queries[3:]] == ["-- PostgreSQL", "-- SQLite"]


def test_flow_queries_answer_on_both_databases(
    inventory_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Unused profiles, profiles used by active flows, flows whose profile is missing or
    deleted, and this week's changes in a profile's flows, each as the page writes it."""
    run_story(inventory_url, org, sim, cli)
    unused, active, broken, changes = (fetch(inventory_url, q) for q in for_dialect(inventory_url))

    live = {
        (account.id, region, str(p["connectorProfileName"]))
        for account in org.account_list()
        for region in REGIONS
        for p in org.items(PROFILES, account.id, region)
    }
    used = {(ACCOUNT, REGION, "crm"), (ACCOUNT, REGION, "warehouse")}
    assert names(unused, "account_id", "region", "connector_profile_name") == live - used
    assert (ACCOUNT, REGION, "unused") in live - used

    # crm: crm-to-warehouse and crm-to-doomed (the suspended archive flow is not active, and
    # gone); warehouse: crm-to-warehouse and ghost-to-warehouse.
    assert names(active, "connector_profile_name", "active_flows") == {
        ("crm", 2),
        ("warehouse", 2),
    }

    assert names(broken, "flow_name", "role", "connector_profile_name", "problem") == {
        ("ghost-to-warehouse", "source", "ghost", "missing"),
        ("crm-to-doomed", "destination", "doomed", "deleted"),
    }

    assert sorted(
        (r["flow_name"], r["change_type"], tuple(as_json(r["changed_fields"]))) for r in changes
    ) == sorted(
        [
            ("crm-archive", "created", ()),
            ("crm-archive", "deleted", ()),
            ("crm-to-doomed", "created", ()),
            ("crm-to-warehouse", "created", ()),
            ("crm-to-warehouse", "updated", ("description", "lastUpdatedAt", "lastUpdatedBy")),
        ]
    )
    stamps = [r["valid_from"] for r in changes]
    assert stamps == sorted(stamps, reverse=True)
