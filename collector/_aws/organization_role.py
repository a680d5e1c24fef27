"""The role the Organizations calls are made as (`--organization-role-arn`), when the
collector runs outside the management account: assumed once, from the base credentials,
through the regional STS endpoint. Member roles are still assumed from the base credentials.
"""

from __future__ import annotations

from typing import Any

from .._errors import AwsError, ErrorKind
from .retry import Attempts, RetryPolicy, call_with_retries

SESSION_NAME = "appflow-inventory"
SESSION_SECONDS = 3600


async def organization_role_keys(
    sts: Any, role_arn: str, retry: RetryPolicy, counter: Attempts
) -> dict[str, str]:
    """Session keys of `role_arn`, as `create_client` takes them; raises `AwsError`.

    They are not refreshed: the Organizations calls all come at the start of a run, well
    within the session's hour.
    """
    params = {
        "RoleArn": role_arn,
        "RoleSessionName": SESSION_NAME,
        "DurationSeconds": SESSION_SECONDS,
    }
    try:
        response = await call_with_retries(lambda: sts.assume_role(**params), retry, counter)
    except AwsError as error:
        if error.kind in (ErrorKind.ACCESS_DENIED, ErrorKind.VALIDATION_ERROR, ErrorKind.UNKNOWN):
            raise AwsError(
                ErrorKind.ASSUME_ROLE_FAILED,
                error.code,
                f"cannot assume the organization role {role_arn}: {error.message}",
            ) from error
        raise
    credentials = response["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
