"""Flows as the API returns them, normalized: snapshots, links, tolerance; `--resources`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from collector._config import load_settings
from collector._errors import ConfigError
from collector._model.resource import Record, Sighting
from collector._model.resources import CONNECTORS, FLOWS, PROFILES
from collector._model.resources.flows import (
    DESTINATION,
    SOURCE,
    FlowLink,
    definition_hash,
    normalize_flow,
)
from collector._model.run import RunResult
from collector._model.scopes import (
    Listing,
    Scope,
    ScopeChanges,
    ScopeOutcome,
    ScopeStatus,
)
from collector._model.wire import UnstorableRecord

ACCOUNT = "012345678901"
REGION = "eu-west-1"
ARN = f"arn:aws:appflow:{REGION}:{ACCOUNT}:flow/crm-sync"


def definition(**overrides: Any) -> dict[str, Any]:
    """A `ListFlows` definition as the wire sends it (epoch seconds)."""
    found: dict[str, Any] = {
        "flowArn": ARN,
        "flowName": "crm-sync",
        "description": "Salesforce to Redshift",
        "flowStatus": "Active",
        "sourceConnectorType": "Salesforce",
        "destinationConnectorType": "Redshift",
        "triggerType": "Scheduled",
        "createdAt": 1_700_000_000.0,
        "lastUpdatedAt": 1_700_000_500.25,
        "createdBy": "arn:aws:sts::012345678901:assumed-role/Admin/jane",
        "lastUpdatedBy": "arn:aws:sts::012345678901:assumed-role/Admin/jane",
        "tags": {"team": "sales"},
        "lastRunExecutionDetails": {
            "mostRecentExecutionStatus": "Successful",
            "mostRecentExecutionTime": 1_700_003_600.0,
            "mostRecentExecutionMessage": "42 records",
        },
    }
    found.update(overrides)
    return found


def description(**overrides: Any) -> dict[str, Any]:
    """A `DescribeFlow` answer for the same flow."""
    found: dict[str, Any] = {
        "flowArn": ARN,
        "flowName": "crm-sync",
        "description": "Salesforce to Redshift",
        "kmsArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/abc",
        "flowStatus": "Active",
        "sourceFlowConfig": {
            "connectorType": "Salesforce",
            "connectorProfileName": "crm",
            "sourceConnectorProperties": {"Salesforce": {"object": "Account"}},
        },
        "destinationFlowConfigList": [
            {
                "connectorType": "Redshift",
                "connectorProfileName": "warehouse",
                "destinationConnectorProperties": {"Redshift": {"object": "accounts"}},
            },
            {
                "connectorType": "S3",
                "destinationConnectorProperties": {"S3": {"bucketName": "archive"}},
            },
            {
                "connectorType": "Redshift",
                "connectorProfileName": "warehouse",
                "destinationConnectorProperties": {"Redshift": {"object": "audit"}},
            },
        ],
        "triggerConfig": {
            "triggerType": "Scheduled",
            "triggerProperties": {
                "Scheduled": {"scheduleExpression": "rate(1hours)", "scheduleStartTime": 1.7e9}
            },
        },
        "tasks": [{"sourceFields": [], "taskType": "Map_all", "taskProperties": {}}],
        "createdAt": 1_700_000_000.0,
        "lastUpdatedAt": 1_700_000_500.25,
        "createdBy": "arn:aws:sts::012345678901:assumed-role/Admin/jane",
        "lastUpdatedBy": "arn:aws:sts::012345678901:assumed-role/Admin/jane",
        "tags": {"team": "sales"},
        "lastRunExecutionDetails": {
            "mostRecentExecutionStatus": "Successful",
            "mostRecentExecutionTime": 1_700_003_600.0,
        },
        "lastRunMetadataCatalogDetails": [{"catalogType": "GLUE", "tableName": "t"}],
        "schemaVersion": 1,
    }
    found.update(overrides)
    return found


def test_columns_come_from_both_answers() -> None:
    """A described flow's columns are read from its definition and its description."""
    record = normalize_flow(definition(), description(), ACCOUNT, REGION)
    details = record.details
    assert details is not None
    assert (record.arn, record.account_id, record.region) == (ARN, ACCOUNT, REGION)
    assert (details.name, details.status, details.trigger_type) == (
        "crm-sync",
        "Active",
        "Scheduled",
    )
    assert (details.source_connector_type, details.destination_connector_type) == (
        "Salesforce",
        "Redshift",
    )
    assert details.kms_arn == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/abc"
    assert details.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert details.last_updated_at == datetime(2023, 11, 14, 22, 21, 40, 250000, tzinfo=UTC)
    assert details.tags == {"team": "sales"}
    assert record.last_run.status == "Successful"
    assert record.last_run.at == datetime(2023, 11, 14, 23, 13, 20, tzinfo=UTC)
    assert record.last_run.message == "42 records"


def test_snapshot_has_no_last_run_and_utc_times() -> None:
    """The snapshot merges both answers without the last run, every timestamp ISO-8601 UTC."""
    snapshot = normalize_flow(definition(), description(), ACCOUNT, REGION).snapshot
    assert snapshot is not None
    assert "lastRunExecutionDetails" not in snapshot
    assert "lastRunMetadataCatalogDetails" not in snapshot
    assert snapshot["createdAt"] == "2023-11-14T22:13:20Z"
    assert snapshot["lastUpdatedAt"] == "2023-11-14T22:21:40.250000Z"
    scheduled = snapshot["triggerConfig"]["triggerProperties"]["Scheduled"]
    assert scheduled["scheduleStartTime"] == "2023-11-14T22:13:20Z"
    assert snapshot["sourceConnectorType"] == "Salesforce"  # only the definition has it
    assert snapshot["kmsArn"].endswith(":key/abc")  # only the description has it


def test_answers_are_not_changed_in_place() -> None:
    """Normalizing leaves the decoded answers exactly as AWS sent them."""
    listed, described = definition(), description()
    normalize_flow(listed, described, ACCOUNT, REGION)
    assert listed == definition()
    assert described == description()


def test_a_new_run_changes_neither_digest() -> None:
    """A flow that only ran again has the same content and definition digests."""
    before = normalize_flow(definition(), description(), ACCOUNT, REGION)
    ran = {"mostRecentExecutionStatus": "Error", "mostRecentExecutionTime": 1_800_000_000.0}
    after = normalize_flow(
        definition(lastRunExecutionDetails=ran),
        description(lastRunExecutionDetails=ran, lastRunMetadataCatalogDetails=[]),
        ACCOUNT,
        REGION,
    )
    assert after.content_hash == before.content_hash
    assert after.definition_hash == before.definition_hash
    assert after.last_run.status == "Error"


@pytest.mark.parametrize(
    "change", [{"lastUpdatedAt": 1_800_000_000.0}, {"flowStatus": "Suspended"}, {"tags": {}}]
)
def test_a_changed_definition_changes_its_digest(change: dict[str, Any]) -> None:
    """An update, a new status or new tags in the listing make the flow worth describing."""
    assert definition_hash(definition(**change)) != definition_hash(definition())


def test_links_name_the_source_and_each_destination_by_position() -> None:
    """The source is position 0; a destination keeps its index, repeated or not, and an S3
    end names no profile."""
    record = normalize_flow(definition(), description(), ACCOUNT, REGION)
    assert record.details is not None
    assert record.details.links == (
        FlowLink(SOURCE, 0, "crm"),
        FlowLink(DESTINATION, 0, "warehouse"),
        FlowLink(DESTINATION, 2, "warehouse"),
    )


def test_odd_values_leave_their_column_empty(caplog: pytest.LogCaptureFixture) -> None:
    """A number where a name belongs, a timestamp out of range and a list for the
    destinations are kept as sent, their columns NULL, each logged once."""
    caplog.set_level(logging.WARNING, logger="collector")
    record = normalize_flow(
        definition(flowStatus=7, lastUpdatedAt=1e20),
        description(flowStatus=7, lastUpdatedAt=1e20, destinationFlowConfigList={"x": 1}),
        ACCOUNT,
        REGION,
    )
    details = record.details
    assert details is not None
    assert details.status is None
    assert details.last_updated_at is None
    assert details.links == (FlowLink(SOURCE, 0, "crm"),)
    assert details.snapshot["flowStatus"] == 7
    assert details.snapshot["lastUpdatedAt"] == 1e20
    assert details.snapshot["destinationFlowConfigList"] == {"x": 1}
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len([w for w in warnings if "flowStatus" in w]) == 1
    assert len([w for w in warnings if "lastUpdatedAt" in w]) == 1
    assert len([w for w in warnings if "destinationFlowConfigList" in w]) == 1


@pytest.mark.parametrize(
    ("listed", "described", "problem"),
    [
        (definition(flowArn=None), description(), "has no ARN"),
        (definition(flowName=""), description(), "has no name"),
        (definition(), description(description="a\x00b"), "NUL"),
        (definition(), description(description="a\ud800b"), "lone UTF-16 surrogate"),
        (definition(newMember="a\udfffb"), description(), "lone UTF-16 surrogate"),
    ],
)
def test_a_flow_that_cannot_be_stored_is_a_data_error(
    listed: dict[str, Any], described: dict[str, Any], problem: str
) -> None:
    """A flow without an ARN or a name, or with a NUL character or a lone surrogate, cannot
    be stored at all (and its definition's digest does not stop on the surrogate first)."""
    with pytest.raises(UnstorableRecord, match=problem):
        normalize_flow(listed, described, ACCOUNT, REGION)


def test_a_listed_flow_is_known_by_its_arn_and_definition_and_gives_its_last_run() -> None:
    """A listed flow is matched to the stored one by ARN and definition digest; a sighting
    of it keeps the stored content digest, has nothing to version, and carries its new last
    run."""
    describe = FLOWS.api.describe
    assert describe is not None
    assert describe.key(definition()) == ARN
    assert describe.summary_hash(definition()) == definition_hash(definition())
    assert describe.request(definition()) == {"flowName": "crm-sync"}
    seen = describe.seen(definition())
    record = Sighting(ARN, ACCOUNT, REGION, "stored-digest", seen)
    assert record.content_hash == "stored-digest"
    assert record.snapshot is None
    assert record.seen()["last_run_message"] == "42 records"
    assert record.seen()["last_run_at"] == datetime.fromtimestamp(1_700_003_600.0, UTC)


def test_run_counts_profiles_and_flows_apart() -> None:
    """A scope's profiles and flows are counted apart, and its requests together."""
    at = datetime(2026, 1, 1, tzinfo=UTC)

    def seen(count: int) -> list[Record]:
        return [Sighting(f"{ARN}-{n}", ACCOUNT, REGION, "digest") for n in range(count)]

    profiles = Listing(records=seen(2), attempts=2, complete=True)
    flows = Listing(records=seen(1), attempts=3, retries=1, complete=True)
    outcome = ScopeOutcome.of(Scope(ACCOUNT, REGION), at, at, {PROFILES: profiles, FLOWS: flows})
    result = RunResult(run_id="r", started_at=at)
    result.tally(outcome, {PROFILES: ScopeChanges(created=2), FLOWS: ScopeChanges(updated=1)})
    assert (result.count(PROFILES)["seen"], result.count(FLOWS)["seen"]) == (2, 1)
    assert (result.requests, result.retries) == (5, 1)
    assert (result.count(PROFILES)["created"], result.count(PROFILES)["updated"]) == (2, 0)
    assert (result.count(FLOWS)["created"], result.count(FLOWS)["updated"]) == (0, 1)


def test_a_scope_is_as_bad_as_its_worst_listing() -> None:
    """A failed flow listing fails the scope, with that listing's error."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    failed = Listing(ScopeStatus.FAILED, error_code="throttled", aws_error_code="Throttling")
    outcome = ScopeOutcome.of(Scope(ACCOUNT, REGION), at, at, {PROFILES: Listing(), FLOWS: failed})
    assert outcome.status is ScopeStatus.FAILED
    assert (outcome.error_code, outcome.aws_error_code) == ("throttled", "Throttling")


# --- --resources ------------------------------------------------------------------------------


def test_every_resource_is_listed_by_default() -> None:
    """Without `--resources` a run lists profiles, flows and custom connectors."""
    assert load_settings({}, environ={}).listed_resources == (PROFILES, FLOWS, CONNECTORS)


def test_resources_from_flag_env_and_file(tmp_path: Any) -> None:
    """`--resources`, `COLLECTOR_RESOURCES` and the TOML key `resources` name what to list."""
    config = tmp_path / "collector.toml"
    config.write_text('resources = ["flows"]\n')
    assert load_settings({"config": str(config)}, environ={}).listed_resources == (FLOWS,)
    env = {"COLLECTOR_RESOURCES": "profiles"}
    assert load_settings({"config": str(config)}, environ=env).listed_resources == (PROFILES,)
    flags = {"config": str(config), "resources": "profiles,flows,profiles"}
    assert load_settings(flags, environ=env).listed_resources == (PROFILES, FLOWS)


def test_a_targeted_refresh_lists_flows_only_when_asked() -> None:
    """A profile filter lists profiles alone, unless `--resources` names flows too."""
    filtered = {"profile_name": "crm"}
    assert load_settings(filtered, environ={}).listed_resources == (PROFILES,)
    both = {**filtered, "resources": "profiles,flows"}
    assert load_settings(both, environ={}).listed_resources == (PROFILES, FLOWS)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"resources": "profiles,pipelines"}, "'pipelines' is not a resource"),
        ({"resources": ","}, "--resources is empty"),
        ({"resources": "flows", "connector_type": "Salesforce"}, "must include profiles"),
    ],
)
def test_bad_resources_are_refused(flags: dict[str, str], message: str) -> None:
    """An unknown resource, none at all, or a profile filter without profiles is exit 2."""
    with pytest.raises(ConfigError, match=message):
        load_settings(flags, environ={})


def test_a_lone_surrogate_does_not_stop_the_definition_digest() -> None:
    """The listing digests every definition before it decides what to describe: a lone
    surrogate there must reach `normalize_flow`, which refuses the flow, not crash first."""
    odd = definition(newMember="a\udfffb")
    assert definition_hash(odd) != definition_hash(definition())
    assert len(definition_hash(odd)) == 64
