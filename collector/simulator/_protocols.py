"""Wire encodings of the four AWS protocols in play, for answers and for errors.

- sts: query protocol, XML answers in the 2011-06-15 namespace.
- ec2: EC2 query protocol, XML answers, errors under `<Response><Errors>`.
- organizations: JSON 1.1, errors as `{"__type", "message"}`.
- appflow: rest-json, error code in the `x-amzn-ErrorType` header.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from xml.sax.saxutils import escape

STS: Final = "sts"
EC2: Final = "ec2"
ORGANIZATIONS: Final = "organizations"
APPFLOW: Final = "appflow"

STS_NAMESPACE: Final = "https://sts.amazonaws.com/doc/2011-06-15/"
EC2_NAMESPACE: Final = "http://ec2.amazonaws.com/doc/2016-11-15/"
JSON_11: Final = "application/x-amz-json-1.1"
_APPFLOW_ERROR_SUFFIX: Final = ":http://internal.amazon.com/coral/com.amazonaws.appflow/"

#: HTTP status AppFlow uses for each error code (unknown codes: 400).
APPFLOW_STATUS: Final[Mapping[str, int]] = {
    "ValidationException": 400,
    "ExpiredTokenException": 403,
    "ResourceNotFoundException": 404,
    "ConflictException": 409,
    "ServiceQuotaExceededException": 402,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
    "ThrottlingException": 429,
    "AccessDeniedException": 403,
    "UnrecognizedClientException": 403,
}

#: Each service's own answer to throttling, a server fault and an expired session token:
#: (code, HTTP status, message). STS's model names `ExpiredTokenException`, but the wire code
#: is `ExpiredToken` with 403; EC2 answers expired credentials with `RequestExpired`;
#: Organizations answers nearly everything with 400, throttling and its own faults included.
FAULT_ERRORS: Final[Mapping[str, Mapping[str, tuple[str, int, str]]]] = {
    STS: {
        "throttle": ("Throttling", 400, "Rate exceeded"),
        "server_error": ("InternalFailure", 500, "An internal error occurred."),
        "expired_token": (
            "ExpiredToken",
            403,
            "The security token included in the request is expired",
        ),
    },
    EC2: {
        "throttle": ("RequestLimitExceeded", 503, "Request limit exceeded."),
        "server_error": ("InternalError", 500, "An internal error has occurred."),
        "expired_token": ("RequestExpired", 400, "Request has expired."),
    },
    ORGANIZATIONS: {
        "throttle": (
            "TooManyRequestsException",
            400,
            "AWS Organizations can't complete your request because it was throttled.",
        ),
        "server_error": (
            "ServiceException",
            400,
            "AWS Organizations can't complete your request because of an internal service "
            "error. Try again later.",
        ),
        "expired_token": (
            "ExpiredTokenException",
            400,
            "The security token included in the request is expired",
        ),
    },
    APPFLOW: {
        "throttle": ("ThrottlingException", 429, "Rate exceeded"),
        "server_error": ("InternalServerException", 500, "An internal service error occurred."),
        "expired_token": (
            "ExpiredTokenException",
            403,
            "The security token included in the request is expired",
        ),
    },
}


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, independent of the server library."""

    status: int
    body: bytes
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)
    stream: Iterable[bytes] | None = None
    """A body too large to hold: sent chunk by chunk instead of `body`."""
    stream_length: int | None = None
    """The streamed body's length, declared as Content-Length (None: chunked)."""


class SimError(Exception):
    """An AWS error answer; rendered in the format of the service that raised it."""

    def __init__(
        self, code: str, message: str, status: int = 400, extra: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.extra = dict(extra or {})
        self.headers: dict[str, str] = {}


class DropConnection(Exception):
    """Close the connection without answering."""


def xml_element(tag: str, value: object) -> str:
    """`<tag>value</tag>` with the value escaped."""
    return f"<{tag}>{escape(str(value))}</{tag}>"


def query_reply(action: str, result_xml: str, request_id: str) -> Reply:
    """A successful STS (query protocol) answer."""
    body = (
        f'<{action}Response xmlns="{STS_NAMESPACE}">'
        f"<{action}Result>{result_xml}</{action}Result>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )
    return Reply(200, body.encode(), "text/xml", {"x-amzn-RequestId": request_id})


def ec2_reply(action: str, inner_xml: str, request_id: str) -> Reply:
    """A successful EC2 answer."""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{EC2_NAMESPACE}">'
        f"<requestId>{request_id}</requestId>{inner_xml}</{action}Response>"
    )
    return Reply(200, body.encode(), "text/xml;charset=UTF-8")


def json_reply(document: Any, request_id: str, content_type: str = JSON_11) -> Reply:
    """A successful JSON answer (JSON 1.1 by default, `application/json` for rest-json)."""
    body = json.dumps(document, separators=(",", ":")).encode()
    return Reply(200, body, content_type, {"x-amzn-RequestId": request_id})


def _query_error(err: SimError, request_id: str) -> Reply:
    kind = "Sender" if err.status < 500 else "Receiver"
    body = (
        f'<ErrorResponse xmlns="{STS_NAMESPACE}"><Error><Type>{kind}</Type>'
        f"{xml_element('Code', err.code)}{xml_element('Message', err.message)}</Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Reply(err.status, body.encode(), "text/xml", {"x-amzn-RequestId": request_id})


def _ec2_error(err: SimError, request_id: str) -> Reply:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
        f"{xml_element('Code', err.code)}{xml_element('Message', err.message)}</Error></Errors>"
        f"<RequestID>{request_id}</RequestID></Response>"
    )
    return Reply(err.status, body.encode(), "text/xml;charset=UTF-8")


def _json_error(err: SimError, request_id: str) -> Reply:
    document = {"__type": err.code, "message": err.message, **err.extra}
    body = json.dumps(document).encode()
    return Reply(err.status, body, JSON_11, {"x-amzn-RequestId": request_id})


def _rest_json_error(err: SimError, request_id: str) -> Reply:
    headers = {
        "x-amzn-RequestId": request_id,
        "x-amzn-ErrorType": err.code + _APPFLOW_ERROR_SUFFIX,
    }
    body = json.dumps({"message": err.message, **err.extra}).encode()
    return Reply(err.status, body, "application/json", headers)


def error_reply(service: str, err: SimError, request_id: str) -> Reply:
    """Render an error the way `service` sends it."""
    if service == STS:
        reply = _query_error(err, request_id)
    elif service == EC2:
        reply = _ec2_error(err, request_id)
    elif service == ORGANIZATIONS:
        reply = _json_error(err, request_id)
    else:
        reply = _rest_json_error(err, request_id)
    if err.headers:
        reply = Reply(
            reply.status, reply.body, reply.content_type, {**reply.headers, **err.headers}
        )
    return reply


def fault_error(service: str, kind: str, retry_after: float | None = None) -> SimError:
    """The error `service` answers for a fault of `kind` (see `FAULT_ERRORS`)."""
    code, status, message = FAULT_ERRORS[service][kind]
    error = SimError(code, message, status)
    if retry_after is not None:
        error.headers["Retry-After"] = str(int(retry_after))
    return error


def appflow_error(code: str, message: str) -> SimError:
    """An AppFlow error with the status AppFlow uses for that code."""
    return SimError(code, message, APPFLOW_STATUS.get(code, 400))
