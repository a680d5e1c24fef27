"""The API's own options: `--connector-label` for custom connectors, and `--connector-type`
values the model's enum does not know (warned about, never refused: AWS adds types)."""

from __future__ import annotations

import random

from collector.simulator import PROFILES, Simulator, generate_organization, make_profile

from ..support import Cli, fetch

REGION = "us-east-1"


def test_connector_label_lists_only_that_label_and_deletes_nothing(
    sqlite_url: str, cli: Cli
) -> None:
    """`--connector-label jira-cloud` is sent as the API's filter: only those profiles are
    seen, the run is recorded as filtered, and nothing else is marked deleted."""
    org = generate_organization(seed=61, accounts=1, empty_fraction=0.0, regions=(REGION,))
    account = org.account_list()[0].id
    rng = random.Random(7)
    jira = make_profile("CustomConnector", "tickets", account, REGION, rng)
    jira["connectorLabel"] = "jira-cloud"
    other = make_profile("CustomConnector", "crm", account, REGION, rng)
    other["connectorLabel"] = "ZohoCRM"
    for profile in (jira, other):
        org.put(PROFILES, account, REGION, profile)
    with Simulator(org) as sim:
        assert cli.collect(sqlite_url, sim, REGION).code == 0
        everything = len(org.items(PROFILES, account, REGION))
        org.delete(PROFILES, account, REGION, "crm")
        result = cli.collect(sqlite_url, sim, REGION, "--connector-label", "jira-cloud")
    assert result.code == 0, result.err
    run = fetch(
        sqlite_url,
        "SELECT filtered, profiles_seen FROM collection_runs ORDER BY started_at DESC",
    )[0]
    assert (bool(run["filtered"]), run["profiles_seen"]) == (True, 1)
    live = fetch(
        sqlite_url, "SELECT count(*) AS n FROM connector_profiles WHERE deleted_at IS NULL"
    )
    assert live == [{"n": everything}]  # crm is gone in AWS, but a filtered run never deletes


def test_connector_label_is_checked_offline(sqlite_url: str, cli: Cli) -> None:
    """A label outside the API's pattern exits 2 with one line naming it."""
    result = cli.run(["run", "--database-url", sqlite_url, "--connector-label", "-bad label"])
    assert result.code == 2
    assert "connector label '-bad label'" in result.err


def test_unknown_connector_type_warns_with_the_closest_match(sqlite_url: str, cli: Cli) -> None:
    """`--connector-type GoogleAnalytics` (the enum says `Googleanalytics`) warns naming the
    closest match, and is still sent: AppFlow's own answer decides."""
    org = generate_organization(seed=62, accounts=1, empty_fraction=0.0, regions=(REGION,))
    with Simulator(org) as sim:
        result = cli.collect(sqlite_url, sim, REGION, "--connector-type", "GoogleAnalytics")
        sent = sim.stats.count("appflow")
    assert "did you mean 'Googleanalytics'?" in result.err
    assert sent > 0
    scopes = fetch(sqlite_url, "SELECT status, aws_error_code FROM collection_scopes")
    assert {(s["status"], s["aws_error_code"]) for s in scopes} == {
        ("failed", "ValidationException")
    }


def test_known_connector_type_gives_no_warning(sqlite_url: str, cli: Cli) -> None:
    """A connector type the model knows is sent without any warning."""
    org = generate_organization(seed=63, accounts=1, empty_fraction=0.0, regions=(REGION,))
    with Simulator(org) as sim:
        result = cli.collect(sqlite_url, sim, REGION, "--connector-type", "Salesforce")
    assert result.code == 0, result.err
    assert "connector type" not in result.err
