"""The one place where botocore's and aiohttp's exceptions become `AwsError`s.

`AwsError.kind` is our stable classification (`collection_scopes.error_code`); `code` is
what AWS said, or the transport exception's name.
"""

from __future__ import annotations

import aiohttp
from botocore import exceptions as boto
from botocore.parsers import ResponseParserError

from .._config import redact_secrets
from .._errors import AwsError, ErrorKind

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
    """Map a botocore or transport exception to an `AwsError`; None if it is not one.

    The message is stored and shown, so secrets in it are masked: AWS's SignatureDoesNotMatch
    quotes the canonical request (session token included), and a response that cannot be
    parsed is quoted as it came (AssumeRole's holds credentials).
    """
    if isinstance(exc, AwsError):
        return exc
    error = _translate(exc)
    if error is None:
        return None
    return AwsError(error.kind, error.code, redact_secrets(error.message))


def _translate(exc: BaseException) -> AwsError | None:
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
