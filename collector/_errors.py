"""The errors the collector raises on purpose. Standard library only.

Hierarchy::

    CollectorError
    ├── ConfigError        bad flags, environment or config file (exit 2)
    ├── DatabaseError      database unreachable, locked or unusable (exit 3)
    │   ├── RefusedDataError   the database refused a scope's values (that scope fails)
    │   └── DatabaseUnavailableError   connection refused or lost (ridden out for a while)
    └── AwsError           one failed AWS call, classified for `collection_scopes.error_code`

Each adapter translates its own library's exceptions into these, in one place:
`collector._aws.errors` for botocore and aiohttp, `collector._store.errors` for SQLAlchemy
and the drivers. Nothing above the adapters ever sees a library exception.
"""

from __future__ import annotations

from enum import StrEnum


class CollectorError(Exception):
    """Base class of every error the collector raises on purpose."""


class ConfigError(CollectorError):
    """A usage or configuration error, reported as one line."""


class DatabaseError(CollectorError):
    """The database cannot be used for this run. The message never holds a password."""


class RefusedDataError(DatabaseError):
    """The database refused the values written (too long, invalid), not the connection."""


class DatabaseUnavailableError(DatabaseError):
    """The database could not be reached, or the connection to it was lost: it restarts, or
    fails over to a standby. A run rides this out for a while (`--database-patience`)."""


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
    TOO_LARGE = "too_large"
    """The scope's responses went over its byte budget (`--scope-budget-mib`)."""
    GUARDRAIL_DENY = "guardrail_deny"
    """An explicit deny in a service or resource control policy (a region-deny guardrail):
    what the organization chose, so the scope is skipped, not failed."""
    REGION_UNREACHABLE = "region_unreachable"
    """A region botocore's endpoint data does not list, whose endpoint did not answer."""
    INTERNAL_ERROR = "internal_error"
    UNKNOWN = "unknown"


# A scope that ends with one of these was skipped on purpose (the account never enabled the
# region, the organization denies it), not failed: it does not make the run partial.
SKIPPING_KINDS = frozenset({ErrorKind.REGION_NOT_ENABLED, ErrorKind.GUARDRAIL_DENY})


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


MAX_MESSAGE = 1000
"""Characters of an error message kept: AWS's messages and the data errors quoting what AWS
sent have no length limit, and each is stored, logged and shown."""


def truncated(message: str, limit: int = MAX_MESSAGE) -> str:
    """`message`, cut to `limit` characters with a note of how many more there were."""
    if len(message) <= limit:
        return message
    return f"{message[:limit]}... ({len(message) - limit} more characters)"


class AwsError(CollectorError):
    """One AWS call that failed, with AWS's own code and our classification. The code and
    message are truncated (`MAX_MESSAGE`)."""

    def __init__(
        self,
        kind: ErrorKind,
        code: str,
        message: str,
        *,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        code, message = truncated(code, 64), truncated(message)
        super().__init__(f"{code}: {message}" if message else code)
        self.kind = kind
        self.code = code
        self.message = message
        self.retry_after = retry_after
        """Seconds the service asked us to wait (`Retry-After`, `x-amz-retry-after`)."""
        self._retryable = retryable

    def with_message(self, message: str) -> AwsError:
        """The same error with another message (say, masked or with context added)."""
        return AwsError(
            self.kind,
            self.code,
            message,
            retry_after=self.retry_after,
            retryable=self._retryable,
        )

    @property
    def retryable(self) -> bool:
        """Whether another attempt can succeed: by kind, unless the raiser knows better (a
        body too large or too deep is `invalid_response` but the same on every attempt)."""
        return self.kind in RETRYABLE_KINDS if self._retryable is None else self._retryable


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
