"""The collector's own check of AppFlow requests, in place of botocore's parameter validation."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

from collector._aws.sent import RequestCheck

_MODEL = botocore.session.get_session().get_service_model("appflow")

CASES: list[tuple[str, dict[str, Any]]] = [
    ("DescribeConnectorProfiles", {"maxResults": 100}),
    ("DescribeConnectorProfiles", {"maxResults": 100, "nextToken": "abc"}),
    ("DescribeConnectorProfiles", {"maxResults": 0}),
    ("DescribeConnectorProfiles", {"maxResults": "100"}),
    ("DescribeConnectorProfiles", {"maxResults": True}),
    ("DescribeConnectorProfiles", {"maxResults": 100, "nextToken": 7}),
    ("DescribeConnectorProfiles", {"maxResults": 100, "connectorProfileNames": ["a", "b"]}),
    ("DescribeConnectorProfiles", {"connectorProfileNames": ["a", 3]}),
    ("DescribeConnectorProfiles", {"connectorProfileNames": "a"}),
    ("DescribeConnectorProfiles", {"connectorType": "Salesforce", "connectorLabel": "x"}),
    ("DescribeConnectorProfiles", {"maxResult": 100}),
    ("ListFlows", {"maxResults": 100, "nextToken": "t"}),
    ("ListFlows", {"maxResults": 101}),
    ("DescribeFlow", {"flowName": "my-flow"}),
    ("DescribeFlow", {}),
    ("DescribeFlow", {"flowName": None}),
    ("ListConnectors", {"maxResults": 100}),
    ("DescribeConnector", {"connectorType": "CustomConnector", "connectorLabel": "label"}),
    ("DescribeConnector", {"connectorLabel": "label"}),
]


def _botocore_refuses(operation: str, request: dict[str, Any]) -> bool:
    try:
        validate_parameters(request, _MODEL.operation_model(operation).input_shape)
    except ParamValidationError:
        return True
    return False


@pytest.mark.parametrize(("operation", "request_"), CASES)
def test_the_check_refuses_exactly_what_botocore_validation_refuses(
    operation: str, request_: dict[str, Any]
) -> None:
    """The check accepts what botocore's validator accepts and refuses, with botocore's own
    exception, what it refuses."""
    check = RequestCheck.of(_MODEL.operation_model(operation).input_shape)
    refused = _botocore_refuses(operation, request_)
    if refused:
        with pytest.raises(ParamValidationError):
            check.check(request_)
    else:
        check.check(request_)


def test_the_cases_cover_both_verdicts() -> None:
    """Some cases are refused and some accepted, so the comparison proves something."""
    verdicts = {_botocore_refuses(operation, request) for operation, request in CASES}
    assert verdicts == {True, False}
