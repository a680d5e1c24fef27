"""Errors, and the one place where botocore's exceptions are translated.

Hierarchy::

    CollectorError
    ├── ConfigError        bad flags, environment or config file (exit 2)
    ├── DatabaseError      database unreachable, locked or unusable (exit 3)
    └── AwsError           one failed AWS call, classified for `collection_scopes.error_code`

`AwsError.kind` is a stable, documented classification; `AwsError.code` is what AWS said.
"""

from __future__ import annotations

from enum import StrEnum

import aiohttp
from botocore import exceptions as boto
from botocore.parsers import ResponseParserError


class CollectorError(Exception):
    """Base class of every error the collector raises on purpose."""


class ConfigError(CollectorError):
    """A usage or configuration error, reported as one line."""


class DatabaseError(CollectorError):
    """The database cannot be used for this run."""


class ErrorKind(StrEnum):
    """Stable classification stored in `collection_scopes.error_code`."""

    ASSUME_ROLE_FAILED = "assume_role_failed"
    ACCESS_DENIED = "access_denied"
    CREDENTIALS_EXPIRED = "credentials_expired"
    REGION_NOT_ENABLED = "region_not_enabled"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"
    VALIDATION_ERROR = "validation_error"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    INVALID_RESPONSE = "invalid_response"
    INTERRUPTED = "interrupted"
    UNKNOWN = "unknown"


# Retrying these can succeed; everything else fails the same way every time.
RETRYABLE_KINDS = frozenset(
    {
        ErrorKind.THROTTLED,
        ErrorKind.SERVER_ERROR,
        ErrorKind.TIMEOUT,
        ErrorKind.CONNECTION_ERROR,
        ErrorKind.INVALID_RESPONSE,
    }
)

_THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "AuthFailure",
        "SignatureDoesNotMatch",
    }
)
_EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
_VALIDATION_CODES = frozenset(
    {"ValidationException", "ValidationError", "InvalidParameterValue", "InvalidInputException"}
)


class AwsError(CollectorError):
    """One AWS call that failed, with AWS's own code and our classification."""

    def __init__(self, kind: ErrorKind, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.kind = kind
        self.code = code
        self.message = message

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS


def classify_client_error(code: str, status: int) -> ErrorKind:
    """Classify an AWS error response by its code, falling back to its HTTP status."""
    if code in _THROTTLING_CODES or status == 429:
        return ErrorKind.THROTTLED
    if code in _EXPIRED_CODES:
        return ErrorKind.CREDENTIALS_EXPIRED
    if code in _DENIED_CODES or status == 403:
        return ErrorKind.ACCESS_DENIED
    if code in _VALIDATION_CODES:
        return ErrorKind.VALIDATION_ERROR
    if status >= 500:
        return ErrorKind.SERVER_ERROR
    return ErrorKind.UNKNOWN


def translate(exc: BaseException) -> AwsError | None:
    """Map a botocore or transport exception to an `AwsError`; None if it is not one."""
    if isinstance(exc, AwsError):
        return exc
    if isinstance(exc, boto.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        message = str(error.get("Message") or "")
        return AwsError(classify_client_error(code, status), code, message)
    if isinstance(exc, boto.ReadTimeoutError | boto.ConnectTimeoutError | TimeoutError):
        return AwsError(ErrorKind.TIMEOUT, type(exc).__name__, str(exc))
    # botocore's ConnectionError covers endpoint, SSL and proxy failures.
    if isinstance(
        exc, boto.ConnectionError | boto.HTTPClientError | aiohttp.ClientError | ConnectionError
    ):
        return AwsError(ErrorKind.CONNECTION_ERROR, type(exc).__name__, str(exc))
    if isinstance(exc, ResponseParserError):
        return AwsError(ErrorKind.INVALID_RESPONSE, "ResponseParserError", _first_line(exc))
    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
        return AwsError(ErrorKind.ACCESS_DENIED, type(exc).__name__, str(exc))
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def unwrap_group(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to report from a task group's exception group: ours first, else the first."""
    leaves: list[BaseException] = []

    def collect(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                collect(inner)
        else:
            leaves.append(exc)

    collect(group)
    return next((e for e in leaves if isinstance(e, CollectorError)), leaves[0])
