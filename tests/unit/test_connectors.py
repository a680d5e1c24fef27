"""Custom connectors as the API returns them, normalized: columns, snapshots, tolerance."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from collector._model.resources import CONNECTORS, LINKS, PROFILES
from collector._model.resources.connectors import normalize_connector, summary_hash
from collector._model.wire import UnstorableRecord

ACCOUNT = "012345678901"
REGION = "eu-west-1"
ARN = f"arn:aws:appflow:{REGION}:{ACCOUNT}:connector/ZohoCRM"
LAMBDA = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:zoho"


def summary(**overrides: Any) -> dict[str, Any]:
    """A `ListConnectors` entry as the wire sends it (epoch seconds, no ARN)."""
    found: dict[str, Any] = {
        "connectorLabel": "ZohoCRM",
        "connectorName": "zoho",
        "connectorOwner": "Acme",
        "connectorVersion": "1.2",
        "applicationType": "CRM",
        "connectorType": "CustomConnector",
        "registeredAt": 1_700_000_000.0,
        "registeredBy": "arn:aws:sts::012345678901:assumed-role/Platform/jane",
        "connectorProvisioningType": "LAMBDA",
        "connectorModes": ["SOURCE"],
    }
    found.update(overrides)
    return found


def configuration(**overrides: Any) -> dict[str, Any]:
    """A `DescribeConnector` answer's `connectorConfiguration`."""
    found: dict[str, Any] = {
        **{k: v for k, v in summary().items() if k != "applicationType"},
        "connectorArn": ARN,
        "connectorProvisioningConfig": {"lambda": {"lambdaArn": LAMBDA}},
        "authenticationConfig": {"isOAuth2Supported": True},
    }
    found.update(overrides)
    return found


def test_columns_come_from_both_answers() -> None:
    """The ARN and function come from the description, the label from the listing; the
    snapshot holds both answers, its time in ISO-8601 UTC."""
    record = normalize_connector(summary(), configuration(), ACCOUNT, REGION)
    assert (record.arn, record.label, record.version) == (ARN, "ZohoCRM", "1.2")
    assert (record.owner, record.provisioning_type, record.lambda_arn) == ("Acme", "LAMBDA", LAMBDA)
    assert record.registered_at == datetime.fromtimestamp(1_700_000_000.0, UTC)
    assert record.snapshot["applicationType"] == "CRM"
    assert record.snapshot["authenticationConfig"] == {"isOAuth2Supported": True}
    assert record.snapshot["registeredAt"] == "2023-11-14T22:13:20Z"
    assert record.row()["lambda_arn"] == LAMBDA
    assert record.row()["summary_hash"] == summary_hash(summary())


def test_a_new_version_changes_the_summary_digest() -> None:
    """A registration of a new version is a new summary, so it is described again."""
    assert summary_hash(summary(connectorVersion="1.3")) != summary_hash(summary())
    assert summary_hash(dict(reversed(list(summary().items())))) == summary_hash(summary())


def test_odd_values_leave_their_column_empty(caplog: pytest.LogCaptureFixture) -> None:
    """A number where a version belongs and a function that is not an object are kept as
    sent, their columns NULL, each logged once."""
    caplog.set_level(logging.WARNING, logger="collector")
    record = normalize_connector(
        summary(),
        configuration(connectorVersion=7, connectorProvisioningConfig={"lambda": "f"}),
        ACCOUNT,
        REGION,
    )
    assert (record.version, record.lambda_arn) == (None, None)
    assert record.snapshot["connectorVersion"] == 7
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len([w for w in warnings if "connectorVersion" in w]) == 1
    assert len([w for w in warnings if "lambda" in w]) == 1


@pytest.mark.parametrize(
    ("listed", "described", "problem"),
    [
        (summary(connectorLabel=None), configuration(), "has no label"),
        (summary(), configuration(connectorArn=""), "has no ARN"),
        (summary(), configuration(connectorDescription="a\x00b"), "NUL"),
        (summary(), configuration(connectorName="a\ud800b"), "lone UTF-16 surrogate"),
    ],
)
def test_a_connector_that_cannot_be_stored_is_refused(
    listed: dict[str, Any], described: dict[str, Any], problem: str
) -> None:
    """A connector without a label or an ARN, or with a NUL or a lone surrogate, cannot be
    stored at all."""
    with pytest.raises(UnstorableRecord, match=problem):
        normalize_connector(listed, described, ACCOUNT, REGION)


def test_the_descriptor_asks_for_a_custom_connector_by_label() -> None:
    """A connector is known by its label in its scope and described as a CustomConnector."""
    describe = CONNECTORS.api.describe
    assert describe is not None
    assert describe.key(summary()) == "ZohoCRM"
    assert describe.request(summary()) == {
        "connectorType": "CustomConnector",
        "connectorLabel": "ZohoCRM",
    }
    assert describe.answer == "connectorConfiguration"
    (link,) = [link for link in LINKS if link.target is CONNECTORS]
    assert (link.owner, link.table, link.name, link.arn) == (
        PROFILES,
        "connector_profiles",
        "connector_label",
        "custom_connector_arn",
    )
