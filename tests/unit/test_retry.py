"""Retries with full jitter, and the translation of botocore errors into `AwsError`.

The clock and the random source are injected: no test sleeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import aiohttp
import anyio
import pytest
from botocore import exceptions as boto
from botocore.parsers import ResponseParserError

from collector._aws.errors import classify_client_error, translate
from collector._aws.retry import Attempts, RetryPolicy, call_with_retries
from collector._errors import RETRYABLE_KINDS, AwsError, ErrorKind

URL = "https://appflow.us-east-1.amazonaws.com/describe-connector-profiles"
OPERATION = "DescribeConnectorProfiles"


def client_error(code: str, status: int, message: str = "") -> boto.ClientError:
    """A ClientError shaped like the ones botocore raises for an error response."""
    response = {
        "Error": {"Code": code, "Message": message or f"{code} happened"},
        "ResponseMetadata": {
            "RequestId": "6f0b6c3e-2a57-4a55-8a47-1c7f3f7e2b11",
            "HTTPStatusCode": status,
            "HTTPHeaders": {"x-amzn-errortype": f"{code}:http://internal.amazon.com/"},
            "RetryAttempts": 0,
        },
    }
    return boto.ClientError(response, OPERATION)


class FakeSleep:
    """An async `sleep` that records the delays asked for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Script:
    """An async call that raises the given exceptions in turn, then returns `result`."""

    def __init__(self, failures: list[BaseException], result: str = "page") -> None:
        self.failures = list(failures)
        self.result = result
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return self.result


def policy(sleep: FakeSleep, max_attempts: int = 5) -> RetryPolicy:
    """Deterministic policy: the random source always answers 1, so each delay is its cap."""
    return RetryPolicy(
        max_attempts=max_attempts, base_delay=1.0, max_delay=8.0, sleep=sleep, random=lambda: 1.0
    )


def run(script: Script, retry: RetryPolicy, counter: Attempts) -> str:
    async def go() -> str:
        return await call_with_retries(script, retry, counter)

    return anyio.run(go)


def fails(script: Script, retry: RetryPolicy, counter: Attempts) -> AwsError:
    with pytest.raises(AwsError) as info:
        run(script, retry, counter)
    return info.value


# --- RetryPolicy.delay -------------------------------------------------------------------------


def test_delay_ceiling_doubles_from_the_base_and_stops_at_the_cap() -> None:
    """With the random source at its top the delay is base * 2**(n-1), capped at max_delay."""
    retry = RetryPolicy(base_delay=0.25, max_delay=20.0, random=lambda: 1.0)
    assert [retry.delay(n) for n in range(1, 11)] == [
        0.25,
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        20.0,
        20.0,
        20.0,
    ]


def test_delay_is_the_random_fraction_of_the_ceiling() -> None:
    """Full jitter: the delay is uniform in [0, ceiling], i.e. random() times the ceiling."""
    assert RetryPolicy(base_delay=1.0, max_delay=8.0, random=lambda: 0.0).delay(3) == 0.0
    assert RetryPolicy(base_delay=1.0, max_delay=8.0, random=lambda: 0.5).delay(3) == 2.0
    assert RetryPolicy(base_delay=1.0, max_delay=8.0, random=lambda: 0.25).delay(10) == 2.0


def test_delay_draws_a_fresh_random_number_each_time() -> None:
    """Each delay uses its own draw from the injected random source."""
    draws: Iterator[float] = iter([0.1, 0.9, 0.5])
    retry = RetryPolicy(base_delay=2.0, max_delay=100.0, random=lambda: next(draws))
    assert [retry.delay(1), retry.delay(1), retry.delay(2)] == pytest.approx([0.2, 1.8, 2.0])


# --- call_with_retries -------------------------------------------------------------------------


def test_a_successful_call_is_made_once() -> None:
    """A call that succeeds returns its result after one attempt and no sleep."""
    sleep, counter, script = FakeSleep(), Attempts(), Script([])
    assert run(script, policy(sleep), counter) == "page"
    assert (counter.attempts, counter.retries) == (1, 0)
    assert script.calls == 1
    assert sleep.delays == []


TRANSIENT: dict[str, Callable[[], BaseException]] = {
    "InternalServerException": lambda: client_error("InternalServerException", 500),
    "ThrottlingException": lambda: client_error("ThrottlingException", 429),
    "ThrottlingException-400": lambda: client_error("ThrottlingException", 400, "Rate exceeded"),
    "ServiceUnavailable-503": lambda: client_error("ServiceUnavailableException", 503),
    "BadGateway-502": lambda: client_error("BadGateway", 502),
    "EndpointConnectionError": lambda: boto.EndpointConnectionError(endpoint_url=URL),
    "ConnectionClosedError": lambda: boto.ConnectionClosedError(endpoint_url=URL),
    "ReadTimeoutError": lambda: boto.ReadTimeoutError(endpoint_url=URL),
    "ConnectTimeoutError": lambda: boto.ConnectTimeoutError(endpoint_url=URL),
}


@pytest.mark.parametrize("make", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_transient_errors_are_retried(make: Callable[[], BaseException]) -> None:
    """Throttling, 5xx, connection errors and timeouts are retried until the call succeeds."""
    sleep, counter = FakeSleep(), Attempts()
    script = Script([make(), make()])
    assert run(script, policy(sleep), counter) == "page"
    assert script.calls == 3
    assert (counter.attempts, counter.retries) == (3, 2)
    assert sleep.delays == [1.0, 2.0]


PERMANENT: dict[str, tuple[Callable[[], BaseException], ErrorKind, str]] = {
    "ValidationException": (
        lambda: client_error("ValidationException", 400, "maxResults must be <= 100"),
        ErrorKind.VALIDATION_ERROR,
        "ValidationException",
    ),
    "AccessDeniedException": (
        lambda: client_error("AccessDeniedException", 403, "not authorized"),
        ErrorKind.ACCESS_DENIED,
        "AccessDeniedException",
    ),
    "ExpiredTokenException": (
        lambda: client_error("ExpiredTokenException", 400),
        ErrorKind.CREDENTIALS_EXPIRED,
        "ExpiredTokenException",
    ),
    "ResourceNotFoundException": (
        lambda: client_error("ResourceNotFoundException", 404),
        ErrorKind.UNKNOWN,
        "ResourceNotFoundException",
    ),
}


@pytest.mark.parametrize("case", PERMANENT.values(), ids=PERMANENT.keys())
def test_permanent_errors_are_not_retried(
    case: tuple[Callable[[], BaseException], ErrorKind, str],
) -> None:
    """Validation, access and other non-transient errors fail after one attempt."""
    make, kind, code = case
    sleep, counter = FakeSleep(), Attempts()
    original = make()
    script = Script([original, make()])
    error = fails(script, policy(sleep), counter)
    assert error.kind is kind
    assert error.code == code
    assert not error.retryable
    assert error.__cause__ is original
    assert script.calls == 1
    assert (counter.attempts, counter.retries) == (1, 0)
    assert sleep.delays == []


def test_attempts_stop_at_max_attempts() -> None:
    """An error that never clears is retried until max_attempts, then raised with its kind."""
    sleep, counter = FakeSleep(), Attempts()
    script = Script([client_error("ThrottlingException", 429, "Rate exceeded")] * 10)
    error = fails(script, policy(sleep, max_attempts=4), counter)
    assert error.kind is ErrorKind.THROTTLED
    assert error.code == "ThrottlingException"
    assert "Rate exceeded" in error.message
    assert script.calls == 4
    assert (counter.attempts, counter.retries) == (4, 3)
    assert sleep.delays == [1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda: client_error("InternalServerException", 500), ErrorKind.SERVER_ERROR),
        (lambda: boto.EndpointConnectionError(endpoint_url=URL), ErrorKind.CONNECTION_ERROR),
        (lambda: boto.ConnectionClosedError(endpoint_url=URL), ErrorKind.CONNECTION_ERROR),
        (lambda: boto.ReadTimeoutError(endpoint_url=URL), ErrorKind.TIMEOUT),
    ],
    ids=["server", "endpoint", "closed", "timeout"],
)
def test_exhausted_errors_keep_their_kind(
    make: Callable[[], BaseException], kind: ErrorKind
) -> None:
    """When attempts run out the raised AwsError says what kept failing."""
    sleep, counter = FakeSleep(), Attempts()
    script = Script([make() for _ in range(3)])
    error = fails(script, policy(sleep, max_attempts=3), counter)
    assert error.kind is kind
    assert (counter.attempts, counter.retries) == (3, 2)
    assert len(sleep.delays) == 2


def test_delays_grow_and_stay_under_the_cap() -> None:
    """The delays slept are the policy's delays for retry 1, 2, ... up to max_delay."""
    sleep, counter = FakeSleep(), Attempts()
    script = Script([client_error("InternalServerException", 500)] * 6)
    assert run(script, policy(sleep, max_attempts=7), counter) == "page"
    assert sleep.delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_comes_from_the_injected_random_source() -> None:
    """The slept delays are random() times each ceiling, from the policy's random source."""
    sleep, counter = FakeSleep(), Attempts()
    draws = iter([0.5, 0.25, 0.75])
    retry = RetryPolicy(
        max_attempts=4, base_delay=1.0, max_delay=8.0, sleep=sleep, random=lambda: next(draws)
    )
    script = Script([client_error("ThrottlingException", 429)] * 3)
    assert run(script, retry, counter) == "page"
    assert sleep.delays == [0.5, 0.5, 3.0]


def test_a_single_attempt_policy_never_retries() -> None:
    """With max_attempts=1 even a retryable error is raised at once."""
    sleep, counter = FakeSleep(), Attempts()
    script = Script([client_error("ThrottlingException", 429)])
    error = fails(script, policy(sleep, max_attempts=1), counter)
    assert error.kind is ErrorKind.THROTTLED
    assert (counter.attempts, counter.retries) == (1, 0)
    assert sleep.delays == []


def test_a_permanent_error_after_a_transient_one_stops_the_retries() -> None:
    """A retry that meets a non-retryable error raises it without further attempts."""
    sleep, counter = FakeSleep(), Attempts()
    script = Script(
        [
            client_error("ThrottlingException", 429),
            client_error("AccessDeniedException", 403),
            client_error("ThrottlingException", 429),
        ]
    )
    error = fails(script, policy(sleep), counter)
    assert error.kind is ErrorKind.ACCESS_DENIED
    assert script.calls == 2
    assert (counter.attempts, counter.retries) == (2, 1)
    assert sleep.delays == [1.0]


def test_the_counter_accumulates_over_calls() -> None:
    """One Attempts counter shared by several calls of a scope sums their attempts and retries."""
    sleep, counter = FakeSleep(), Attempts()
    run(Script([client_error("ThrottlingException", 429)]), policy(sleep), counter)
    run(Script([]), policy(sleep), counter)
    run(Script([boto.ReadTimeoutError(endpoint_url=URL)] * 2), policy(sleep), counter)
    assert (counter.attempts, counter.retries) == (6, 3)


def test_an_aws_error_raised_by_the_call_is_honoured() -> None:
    """An AwsError raised by the call itself is retried or not according to its kind."""
    sleep, counter = FakeSleep(), Attempts()
    transient = AwsError(ErrorKind.INVALID_RESPONSE, "InvalidResponse", "truncated body")
    assert run(Script([transient]), policy(sleep), counter) == "page"
    permanent = AwsError(ErrorKind.ACCESS_DENIED, "AccessDenied", "no")
    error = fails(Script([permanent]), policy(sleep), counter)
    assert error is permanent
    assert (counter.attempts, counter.retries) == (3, 1)


@pytest.mark.parametrize(
    "exc", [KeyError("connectorProfileDetails"), ValueError("bad"), TypeError("x")]
)
def test_unexpected_exceptions_pass_through_untouched(exc: Exception) -> None:
    """An exception that is neither AWS nor transport propagates as it is, without retry."""
    sleep, counter = FakeSleep(), Attempts()
    script = Script([exc])
    with pytest.raises(type(exc)) as info:
        run(script, policy(sleep), counter)
    assert info.value is exc
    assert script.calls == 1
    assert (counter.attempts, counter.retries) == (1, 0)
    assert sleep.delays == []


# --- translate and classify_client_error -------------------------------------------------------


CLASSIFIED: list[tuple[str, int, ErrorKind]] = [
    ("ThrottlingException", 429, ErrorKind.THROTTLED),
    ("ThrottlingException", 400, ErrorKind.THROTTLED),
    ("TooManyRequestsException", 400, ErrorKind.THROTTLED),
    ("RequestLimitExceeded", 503, ErrorKind.THROTTLED),
    ("SomethingNew", 429, ErrorKind.THROTTLED),
    ("ExpiredTokenException", 400, ErrorKind.CREDENTIALS_EXPIRED),
    ("ExpiredToken", 403, ErrorKind.CREDENTIALS_EXPIRED),
    ("RequestExpired", 400, ErrorKind.CREDENTIALS_EXPIRED),
    ("AccessDeniedException", 403, ErrorKind.ACCESS_DENIED),
    ("AccessDenied", 403, ErrorKind.ACCESS_DENIED),
    ("UnrecognizedClientException", 400, ErrorKind.ACCESS_DENIED),
    ("InvalidClientTokenId", 403, ErrorKind.ACCESS_DENIED),
    ("SomethingForbidden", 403, ErrorKind.ACCESS_DENIED),
    ("ValidationException", 400, ErrorKind.VALIDATION_ERROR),
    ("InvalidParameterValue", 400, ErrorKind.VALIDATION_ERROR),
    ("InternalServerException", 500, ErrorKind.SERVER_ERROR),
    ("ServiceUnavailableException", 503, ErrorKind.SERVER_ERROR),
    ("SomethingNew", 504, ErrorKind.SERVER_ERROR),
    ("ResourceNotFoundException", 404, ErrorKind.UNKNOWN),
    ("ConflictException", 409, ErrorKind.UNKNOWN),
]


@pytest.mark.parametrize(("code", "status", "kind"), CLASSIFIED)
def test_classify_client_error(code: str, status: int, kind: ErrorKind) -> None:
    """An error response is classified by its code first, then by its HTTP status."""
    assert classify_client_error(code, status) is kind


@pytest.mark.parametrize(("code", "status", "kind"), CLASSIFIED)
def test_translate_client_error(code: str, status: int, kind: ErrorKind) -> None:
    """translate keeps AWS's code and message and classifies the ClientError."""
    error = translate(client_error(code, status, "the message"))
    assert error is not None
    assert error.kind is kind
    assert error.code == code
    assert error.message == "the message"
    assert error.retryable == (kind in RETRYABLE_KINDS)


def test_translate_client_error_without_code_or_status() -> None:
    """A ClientError with no code and no status is an unknown error, not a crash."""
    error = translate(boto.ClientError({"Error": {}, "ResponseMetadata": {}}, OPERATION))
    assert error is not None
    assert error.kind is ErrorKind.UNKNOWN
    assert error.code == "Unknown"


TRANSPORT: dict[str, tuple[Callable[[], BaseException], ErrorKind]] = {
    "ReadTimeoutError": (lambda: boto.ReadTimeoutError(endpoint_url=URL), ErrorKind.TIMEOUT),
    "ConnectTimeoutError": (
        lambda: boto.ConnectTimeoutError(endpoint_url=URL),
        ErrorKind.TIMEOUT,
    ),
    "TimeoutError": (lambda: TimeoutError(), ErrorKind.TIMEOUT),
    "EndpointConnectionError": (
        lambda: boto.EndpointConnectionError(endpoint_url=URL),
        ErrorKind.CONNECTION_ERROR,
    ),
    "ConnectionClosedError": (
        lambda: boto.ConnectionClosedError(endpoint_url=URL),
        ErrorKind.CONNECTION_ERROR,
    ),
    "HTTPClientError": (
        lambda: boto.HTTPClientError(error="Connection reset by peer"),
        ErrorKind.CONNECTION_ERROR,
    ),
    "SSLError": (
        lambda: boto.SSLError(endpoint_url=URL, error="certificate verify failed"),
        ErrorKind.CONNECTION_ERROR,
    ),
    "ProxyConnectionError": (
        lambda: boto.ProxyConnectionError(proxy_url="http://proxy:3128", error="refused"),
        ErrorKind.CONNECTION_ERROR,
    ),
    "aiohttp.ServerDisconnectedError": (
        lambda: aiohttp.ServerDisconnectedError(),
        ErrorKind.CONNECTION_ERROR,
    ),
    "ConnectionResetError": (
        lambda: ConnectionResetError(104, "Connection reset by peer"),
        ErrorKind.CONNECTION_ERROR,
    ),
    "ResponseParserError": (
        lambda: ResponseParserError("Unable to parse response (not JSON)\n<html>...</html>"),
        ErrorKind.INVALID_RESPONSE,
    ),
    "NoCredentialsError": (lambda: boto.NoCredentialsError(), ErrorKind.ACCESS_DENIED),
    "PartialCredentialsError": (
        lambda: boto.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
        ErrorKind.ACCESS_DENIED,
    ),
}


@pytest.mark.parametrize("case", TRANSPORT.values(), ids=TRANSPORT.keys())
def test_translate_transport_and_credential_errors(
    case: tuple[Callable[[], BaseException], ErrorKind],
) -> None:
    """Timeouts, connection, parser and credential errors each get their kind."""
    make, kind = case
    error = translate(make())
    assert error is not None
    assert error.kind is kind


def test_translate_response_parser_error_keeps_the_first_line() -> None:
    """An unparseable response is reported by the first line of the parser's message."""
    error = translate(ResponseParserError("Unable to parse response (not JSON)\n<html>"))
    assert error is not None
    assert error.kind is ErrorKind.INVALID_RESPONSE
    assert error.message == "Unable to parse response (not JSON)"


def test_translate_returns_an_aws_error_unchanged() -> None:
    """An AwsError is already translated and comes back as the same object."""
    error = AwsError(ErrorKind.REGION_NOT_ENABLED, "UnrecognizedClientException", "opt-in region")
    assert translate(error) is error


@pytest.mark.parametrize("exc", [KeyError("x"), ValueError("x"), RuntimeError("x")])
def test_translate_leaves_other_exceptions_alone(exc: Exception) -> None:
    """Exceptions that are not AWS or transport errors translate to None."""
    assert translate(exc) is None


def test_retryable_kinds() -> None:
    """Exactly throttling, server, timeout, connection and invalid-response errors retry."""
    assert {kind for kind in ErrorKind if AwsError(kind, "C", "").retryable} == {
        ErrorKind.THROTTLED,
        ErrorKind.SERVER_ERROR,
        ErrorKind.TIMEOUT,
        ErrorKind.CONNECTION_ERROR,
        ErrorKind.INVALID_RESPONSE,
    }
