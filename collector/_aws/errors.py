"""The one place where botocore's and aiohttp's exceptions become `AwsError`s.

`AwsError.kind` is our stable classification (`collection_scopes.error_code`); `code` is
what AWS said, or the transport exception's name. `credential_error` turns a base credential
chain that cannot give credentials at all into one `ConfigError` line naming the fix.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from botocore import exceptions as boto
from botocore.parsers import ResponseParserError

from .._config import redact_secrets
from .._errors import AwsError, ConfigError, ErrorKind
from .bounded import ResponseTooLarge, ScopeTooLarge

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
# The credential chain could not give (or refresh) credentials: an SSO session that ended,
# a credential_process that fails, a web identity token file that is gone.
_CREDENTIAL_FAILURES: tuple[type[Exception], ...] = (
    boto.SSOError,
    boto.TokenRetrievalError,
    boto.CredentialRetrievalError,
    boto.RefreshWithMFAUnsupportedError,
    boto.InvalidConfigError,
    boto.ProfileNotFound,
)
# Server faults, whatever the status: Organizations answers its own with 400.
_SERVER_CODES = frozenset(
    {
        "ServiceException",
        "InternalFailure",
        "InternalError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "Unavailable",
    }
)
# How AWS says an organization policy denied a call on purpose ("... with an explicit deny
# in a service control policy"), as opposed to a role lacking a permission ("... because no
# identity-based policy allows ...").
_EXPLICIT_POLICY_DENY = re.compile(
    r"with an explicit deny in an? (service|resource) control policy", re.IGNORECASE
)
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
    if code in _SERVER_CODES or status >= 500:
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
    return error.with_message(redact_secrets(error.message))


def _client_error(exc: boto.ClientError) -> AwsError:
    """An error AWS answered: its code, our kind, its message, when to retry."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "Unknown")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    message = str(error.get("Message") or "")
    headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders") or {}
    kind = classify_client_error(code, status)
    if kind is ErrorKind.ACCESS_DENIED and _EXPLICIT_POLICY_DENY.search(message):
        kind = ErrorKind.GUARDRAIL_DENY
    return AwsError(kind, code, message, retry_after=retry_after(headers))


def _translate(exc: BaseException) -> AwsError | None:
    if isinstance(exc, boto.ClientError):
        return _client_error(exc)
    if isinstance(exc, RecursionError):
        # botocore's parser met JSON or XML nested beyond Python's recursion limit.
        return AwsError(
            ErrorKind.INVALID_RESPONSE,
            "InvalidResponse",
            "the response is nested too deeply to read",
            retryable=False,
        )
    if isinstance(exc, ResponseTooLarge):
        return AwsError(ErrorKind.INVALID_RESPONSE, "ResponseTooLarge", str(exc), retryable=False)
    if isinstance(exc, ScopeTooLarge):
        return AwsError(ErrorKind.TOO_LARGE, "ScopeTooLarge", str(exc), retryable=False)
    if isinstance(exc, _CREDENTIAL_FAILURES):
        # Mid-run: the credentials ran out and could not be renewed.
        return AwsError(ErrorKind.CREDENTIALS_EXPIRED, type(exc).__name__, _first_line(exc))
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


def retry_after(headers: Mapping[str, Any]) -> float | None:
    """Seconds to wait from `x-amz-retry-after` (milliseconds) or `Retry-After` (seconds or
    an HTTP date); None when absent or unreadable."""
    lowered = {str(k).lower(): str(v).strip() for k, v in headers.items()}
    amz = lowered.get("x-amz-retry-after")
    if amz and amz.isdigit():
        return int(amz) / 1000.0
    value = lowered.get("retry-after")
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def credential_error(
    exc: BaseException, profile: str | None, sso_session: str | None = None
) -> ConfigError | None:
    """The one line for base credentials that cannot be had at start; None if `exc` is not
    a credential-chain failure. `sso_session` is the profile's `sso_session`, if any."""
    named = f" (profile {profile!r})" if profile else ""
    if isinstance(exc, boto.ProfileNotFound):
        return ConfigError(f"AWS profile {profile!r} is not in the shared config")
    if isinstance(exc, boto.SSOError | boto.TokenRetrievalError):
        session = sso_session or _sso_session(exc)
        how = f"--sso-session {session}" if session else f"--profile {profile or 'default'}"
        return ConfigError(
            f"the AWS SSO session{named} is not logged in or has expired: run 'aws sso login {how}'"
        )
    if isinstance(exc, boto.CredentialRetrievalError):
        return ConfigError(
            f"the credential_process of the AWS config{named} failed: {_first_line(exc)}"
        )
    if isinstance(exc, FileNotFoundError):
        return ConfigError(
            f"the web identity token file {exc.filename!r}{named} does not exist "
            "(AWS_WEB_IDENTITY_TOKEN_FILE / web_identity_token_file)"
        )
    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
        return ConfigError(
            "no AWS credentials found (environment, shared config, SSO or instance role)"
        )
    if isinstance(exc, boto.BotoCoreError):
        return ConfigError(f"cannot get AWS credentials{named}: {_first_line(exc)}")
    return None


def _sso_session(exc: BaseException) -> str | None:
    # SSOTokenLoadError says "Token for NAME does not exist": NAME is the sso-session name,
    # or the start URL of a profile configured without one.
    text = str(exc)
    marker = "Token for "
    if marker not in text:
        return None
    name = text.split(marker, 1)[1].split(" ", 1)[0]
    return None if "://" in name or not name else name


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
