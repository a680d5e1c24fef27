"""Retries as AWS's SDKs do them, partitions and regions, credential failures, containment.

The clock and the random source are injected: no test sleeps.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, cast

import anyio
import anyio.lowlevel
import pytest
from aiobotocore.session import AioSession
from botocore import exceptions as boto
from botocore.handlers import BUILTIN_HANDLERS
from botocore.httpsession import get_cert_path
from botocore.loaders import create_loader

from collector._aws import Aws, AwsClients, AwsOptions, RetryPolicy
from collector._aws.clients import HTTP_SESSION
from collector._aws.credentials import AssumedRoles, MemberRole
from collector._aws.errors import credential_error, retry_after, translate
from collector._aws.lean import new_session
from collector._aws.pacing import AccountPacer
from collector._aws.partitions import (
    RegionCheck,
    appflow_regions,
    check_regions,
    has_fips_endpoint,
    partition_of,
)
from collector._aws.regions import RegionStatus
from collector._aws.retry import Attempts, call_with_retries
from collector._config import Settings
from collector._errors import AwsError, ConfigError, ErrorKind
from collector._model.regions import APPFLOW_REGIONS
from collector._model.run import RunResult
from collector._model.scopes import Scope, ScopeStatus
from collector._service.context import Run
from collector._service.fanout import _ScopeLister
from collector._service.regions import OptInEvidence, listing_order
from collector._store import Store


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def throttled(headers: dict[str, str] | None = None) -> boto.ClientError:
    response = {
        "Error": {"Code": "TooManyRequestsException", "Message": "slow down"},
        "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": headers or {}},
    }
    return boto.ClientError(response, "ListAccounts")


def server_fault() -> boto.ClientError:
    response = {
        "Error": {"Code": "ServiceException", "Message": "internal"},
        "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}},
    }
    return boto.ClientError(response, "ListAccounts")


def always(exc: BaseException) -> Any:
    async def call() -> str:
        raise exc

    return call


def attempts_until_given_up(policy: RetryPolicy, exc: BaseException) -> tuple[int, AwsError]:
    counter = Attempts()

    async def go() -> None:
        await call_with_retries(always(exc), policy, counter)

    with pytest.raises(AwsError) as info:
        anyio.run(go)
    return counter.attempts, info.value


# --- retries ---------------------------------------------------------------------------------


def test_throttling_backs_off_from_a_longer_base_than_server_errors() -> None:
    """At the top of the jitter, throttling waits 1, 2, 4 s; a server error 0.25, 0.5, 1 s."""
    policy = RetryPolicy(random=lambda: 1.0)
    slow = AwsError(ErrorKind.THROTTLED, "Throttling", "")
    fault = AwsError(ErrorKind.SERVER_ERROR, "InternalFailure", "")
    assert [policy.delay(n, slow) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert [policy.delay(n, fault) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]
    assert policy.delay(10, slow) == 20.0


def test_retry_after_is_honoured_within_the_cap() -> None:
    """A service's Retry-After lengthens the wait to it, but never beyond the cap."""
    policy = RetryPolicy(random=lambda: 0.0)
    asked = AwsError(ErrorKind.THROTTLED, "Throttling", "", retry_after=7.0)
    greedy = AwsError(ErrorKind.THROTTLED, "Throttling", "", retry_after=3600.0)
    assert policy.delay(1, asked) == 7.0
    assert policy.delay(1, greedy) == 20.0


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"x-amz-retry-after": "1500"}, 1.5),
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers: dict[str, str], seconds: float | None) -> None:
    """`x-amz-retry-after` is milliseconds, `Retry-After` seconds; nonsense is ignored."""
    assert retry_after(headers) == seconds


def test_retry_after_as_an_http_date() -> None:
    """`Retry-After` may be an HTTP date: the wait is the time until then."""
    when = datetime.now(UTC) + timedelta(seconds=30)
    waited = retry_after({"Retry-After": format_datetime(when, usegmt=True)})
    assert waited is not None
    assert 25 < waited <= 30


def test_translate_reads_the_retry_after_of_an_error() -> None:
    """A throttled answer's Retry-After reaches the AwsError."""
    error = translate(throttled({"retry-after": "2"}))
    assert error is not None
    assert error.retry_after == 2.0


def test_control_plane_policy_rides_out_a_throttling_burst() -> None:
    """The control-plane policy keeps retrying throttling past its attempts until it has
    waited 60 s in all (the cap on attempts aside), where the plain policy gives up at 5."""
    sleep = FakeSleep()
    plain = RetryPolicy(max_attempts=5, sleep=sleep, random=lambda: 0.5)
    attempts, _ = attempts_until_given_up(plain, throttled())
    assert attempts == 5
    sleep.delays.clear()
    attempts, error = attempts_until_given_up(plain.for_control_plane(), throttled())
    assert error.kind is ErrorKind.THROTTLED
    assert attempts > 8
    assert sum(sleep.delays[:-1]) < 60.0 <= sum(sleep.delays)


def test_control_plane_policy_gives_server_errors_eight_attempts() -> None:
    """Server faults get the control plane's eight attempts, without the throttling
    patience; Organizations' ServiceException counts as one whatever its status."""
    sleep = FakeSleep()
    policy = RetryPolicy(max_attempts=3, sleep=sleep, random=lambda: 1.0).for_control_plane()
    attempts, error = attempts_until_given_up(policy, server_fault())
    assert (attempts, error.kind) == (8, ErrorKind.SERVER_ERROR)
    assert sleep.delays == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]


def test_errors_that_repeat_on_every_attempt_are_not_retried() -> None:
    """An error marked not retryable (a body too large) is raised after one attempt."""
    too_large = AwsError(ErrorKind.INVALID_RESPONSE, "ResponseTooLarge", "", retryable=False)
    attempts, error = attempts_until_given_up(RetryPolicy(sleep=FakeSleep()), too_large)
    assert (attempts, error.code) == (1, "ResponseTooLarge")


def test_recursion_in_a_parser_is_an_invalid_response() -> None:
    """A RecursionError from botocore's parser is an unretried `invalid_response`."""
    error = translate(RecursionError("maximum recursion depth exceeded"))
    assert error is not None
    assert (error.kind, error.retryable) == (ErrorKind.INVALID_RESPONSE, False)


@pytest.mark.parametrize(
    "exc",
    [
        boto.SSOTokenLoadError(error_msg="Token for corp does not exist"),
        boto.UnauthorizedSSOTokenError(),
        boto.CredentialRetrievalError(provider="custom-process", error_msg="exit 1"),
        boto.TokenRetrievalError(provider="sso", error_msg="expired"),
    ],
)
def test_credential_failures_mid_run_are_expired_credentials(exc: Exception) -> None:
    """A credential provider that cannot renew credentials mid-run: `credentials_expired`."""
    error = translate(exc)
    assert error is not None
    assert error.kind is ErrorKind.CREDENTIALS_EXPIRED


def test_credential_errors_at_start_name_the_fix() -> None:
    """At start, each credential-chain failure is one ConfigError line naming the fix."""
    sso = credential_error(boto.SSOTokenLoadError(error_msg="Token for corp does not exist"), "dev")
    assert isinstance(sso, ConfigError)
    assert "aws sso login --sso-session corp" in str(sso)
    legacy = credential_error(boto.UnauthorizedSSOTokenError(), "dev")
    assert "aws sso login --profile dev" in str(legacy)
    named = credential_error(boto.UnauthorizedSSOTokenError(), "dev", "corp")
    assert "aws sso login --sso-session corp" in str(named)
    missing = credential_error(boto.ProfileNotFound(profile="nosuch"), "nosuch")
    assert "'nosuch'" in str(missing)
    assert credential_error(KeyError("x"), "dev") is None


# --- partitions and regions ------------------------------------------------------------------

ENDPOINTS = {
    "partitions": [
        {
            "partition": "aws",
            "services": {
                "appflow": {
                    "endpoints": {
                        "us-east-1": {"variants": [{"tags": ["fips"], "hostname": "x"}]},
                        "eu-west-1": {},
                        "fips-us-east-1": {"deprecated": True},
                    }
                }
            },
        }
    ]
}


def test_partition_of_an_arn() -> None:
    """The partition is the ARN's second field; anything unreadable is `aws`."""
    assert partition_of("arn:aws-us-gov:iam::123456789012:user/x") == "aws-us-gov"
    assert partition_of("arn:aws:sts::123456789012:assumed-role/r/s") == "aws"
    assert partition_of("nonsense") == "aws"


def test_regions_come_from_the_endpoint_data() -> None:
    """The data's regions (not its fips- pseudo-regions) are the regions; FIPS keeps those
    with a fips variant; the fixed list is only the fallback for `aws` with no data."""
    listed = ["us-east-1", "eu-west-1", "fips-us-east-1", "me-new-1"]
    assert appflow_regions(listed, "aws", False, ENDPOINTS) == (
        "eu-west-1",
        "me-new-1",
        "us-east-1",
    )
    assert appflow_regions(listed, "aws", True, ENDPOINTS) == ("us-east-1",)
    assert appflow_regions([], "aws", False, {}) == APPFLOW_REGIONS
    with pytest.raises(ConfigError, match="not available in the AWS partition 'aws-cn'"):
        appflow_regions([], "aws-cn", False, {})


def test_check_regions_expands_all_and_names_the_unknown() -> None:
    """`all` is the partition's list; a region outside it is one line naming it."""
    assert check_regions(("all",), ("a-b-1", "c-d-2"), "--regions").regions == ("a-b-1", "c-d-2")
    with pytest.raises(ConfigError, match=r"region 'x-y-3' is not an AppFlow region \(known"):
        check_regions(("x-y-3",), ("a-b-1",), "--regions")
    with pytest.raises(ConfigError, match="with a FIPS endpoint"):
        check_regions(("x-y-3",), ("a-b-1",), "--regions", fips=True)


def test_a_region_newer_than_the_endpoint_data_is_tried_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A region of the partition's form that the data does not list is kept, remembered as
    unlisted and named in a warning; a typo of a known one says which; under FIPS, or of
    another form, it is refused."""
    pattern = re.compile(r"^(us|eu|ap)\-\w+\-\d+$")
    known = ("eu-west-1", "us-east-1")
    caplog.set_level(logging.WARNING, logger="collector")
    checked = check_regions(("eu-central-9", "us-east-1"), known, "--regions", pattern=pattern)
    assert checked == RegionCheck(("eu-central-9", "us-east-1"), frozenset({"eu-central-9"}))
    assert "eu-central-9 is not one botocore's endpoint data lists" in caplog.text
    typo = check_regions(("eu-west-11",), known, "--regions", pattern=pattern)
    assert typo.unlisted == {"eu-west-11"}
    assert "did you mean eu-west-1?" in caplog.text
    with pytest.raises(ConfigError, match="did you mean us-east-1"):
        check_regions(("us-east-1x",), known, "--regions", pattern=pattern)
    with pytest.raises(ConfigError, match="with a FIPS endpoint"):
        check_regions(("eu-central-9",), known, "--regions", fips=True, pattern=pattern)


def test_role_arns_use_the_partition_and_the_path() -> None:
    """Role ARNs are built from the caller's partition and may carry an IAM path."""
    roles = AssumedRoles(
        None, MemberRole("team/Reader", None, "aws-us-gov"), RetryPolicy(), Attempts()
    )
    assert roles.role_arn("123456789012") == "arn:aws-us-gov:iam::123456789012:role/team/Reader"
    written_as_iam_does = AssumedRoles(
        None, MemberRole("/team/Reader", None, "aws"), RetryPolicy(), Attempts()
    )
    assert (
        written_as_iam_does.role_arn("123456789012") == "arn:aws:iam::123456789012:role/team/Reader"
    )


def test_opt_in_regions_are_listed_last() -> None:
    """Scopes of opt-in regions come after all others; accounts keep their order."""
    scopes = [Scope("1", "af-south-1"), Scope("1", "us-east-1"), Scope("2", "eu-west-1")]
    assert listing_order(scopes) == [scopes[1], scopes[2], scopes[0]]


def test_scopes_are_interleaved_across_accounts_and_regions() -> None:
    """Consecutive scopes differ in account and in region; opt-in regions still come last."""
    regions = ("us-east-1", "eu-west-1", "ap-south-1", "af-south-1")
    accounts = ("1", "2", "3")
    scopes = [Scope(account, region) for account in accounts for region in regions]
    ordered = listing_order(scopes)
    assert sorted(ordered) == sorted(scopes)
    assert [s.region for s in ordered[-3:]] == ["af-south-1"] * 3
    listed = ordered[:-3]
    for before, after in itertools.pairwise(listed):
        assert before.account_id != after.account_id
        assert before.region != after.region
    assert [s.account_id for s in listed[:3]] == list(accounts)


async def test_evidence_waits_for_the_accounts_other_scopes() -> None:
    """Whether an account's credentials worked elsewhere is answered once its scopes in
    regions every account has are done; then no event is kept for the account, whether or
    not someone waited (memory flat in the fleet's size), and later questions are answered."""
    from collector._model.scopes import ScopeOutcome

    scope, other = Scope("1", "us-east-1"), Scope("2", "us-east-1")
    evidence = OptInEvidence([scope, Scope("1", "af-south-1"), other])
    now = datetime.now(UTC)
    answers: list[bool] = []

    async def ask() -> None:
        answers.append(await evidence.proven("1"))

    async with anyio.create_task_group() as group:
        group.start_soon(ask)
        await anyio.lowlevel.checkpoint()
        assert answers == []
        evidence.finished(ScopeOutcome(scope, ScopeStatus.SUCCEEDED, now, now))
    evidence.finished(ScopeOutcome(other, ScopeStatus.FAILED, now, now))
    assert answers == [True]
    assert evidence._done == {}
    assert (await evidence.proven("1"), await evidence.proven("2")) == (True, False)


class CountingSts:
    """An STS client that answers AssumeRole after a checkpoint, counting the calls; refuses
    the accounts in `denied` as IAM does a role that is not there."""

    def __init__(self, denied: frozenset[str] = frozenset()) -> None:
        self.calls: list[str] = []
        self.denied = denied

    async def assume_role(self, **params: Any) -> dict[str, Any]:
        account = params["RoleArn"].split(":")[4]
        self.calls.append(account)
        await anyio.lowlevel.checkpoint()
        if account in self.denied:
            raise boto.ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole"
            )
        expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        keys = {"AccessKeyId": "ASIA" + account, "SecretAccessKey": "s", "SessionToken": "t"}
        return {"Credentials": {**keys, "Expiration": expiry}}


async def test_a_role_is_assumed_once_however_many_scopes_ask_and_no_lock_is_kept() -> None:
    """Scopes of one account asking at once make one AssumeRole; once the answer (the
    credentials, or a permanent refusal) is kept, so is no lock for the account."""
    sts = CountingSts(denied=frozenset({"222222222222"}))
    roles = AssumedRoles(
        sts, MemberRole("Reader", None, "aws"), RetryPolicy(sleep=FakeSleep()), Attempts()
    )
    got: list[Any] = []

    async def ask(account: str) -> None:
        try:
            got.append(await roles.credentials(account))
        except AwsError as error:
            got.append(error.kind)

    async with anyio.create_task_group() as group:
        for account in ("111111111111", "222222222222") * 3:
            group.start_soon(ask, account)
    assert sorted(sts.calls) == ["111111111111", "222222222222"]
    assert len({id(c) for c in got if not isinstance(c, ErrorKind)}) == 1
    assert got.count(ErrorKind.ASSUME_ROLE_FAILED) == 3
    assert roles._locks == {}


class SilentEc2:
    """An EC2 client whose every call times out, counting the calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def describe_regions(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        raise boto.ReadTimeoutError(endpoint_url="http://ec2")


async def test_ec2_is_not_asked_again_once_unreachable() -> None:
    """After EC2 timed out once, no account's look-up asks it again in the run."""
    ec2 = SilentEc2()

    async def client() -> SilentEc2:
        return ec2

    status = RegionStatus(client, RetryPolicy(sleep=FakeSleep()), Attempts())
    assert await status.opt_in_status("111111111111", object()) is None
    assert await status.opt_in_status("222222222222", object()) is None
    assert ec2.calls == 1
    assert status.unreachable


# --- containment ------------------------------------------------------------------------------


class BrokenCredentials:
    """Account credentials that raise a bug's exception."""

    async def for_account(self, account_id: str) -> Any:
        raise KeyError("Credentials")


@dataclass
class BrokenAws:
    credentials: BrokenCredentials


async def test_an_unexpected_exception_fails_only_its_scope() -> None:
    """An exception nothing foresaw becomes the scope's `internal_error`, with its type."""
    scope = Scope("123456789012", "us-east-1")
    now = datetime.now(UTC)
    run = Run(
        Settings(),
        cast(Aws, BrokenAws(BrokenCredentials())),
        cast(Store, None),
        RunResult("run", now),
        lambda: now,
    )
    outcome = await _ScopeLister(run, OptInEvidence([scope]), []).contained(scope)
    assert outcome.status is ScopeStatus.FAILED
    assert (outcome.error_code, outcome.aws_error_code) == ("internal_error", "KeyError")


async def test_an_account_gets_its_rate_and_no_more() -> None:
    """Each account may burst to its rate, then waits for tokens; accounts do not share."""
    clock = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    pacer = AccountPacer(rate=4.0, clock=lambda: clock[0], sleep=sleep)
    for _ in range(4):
        await pacer.wait("111111111111")
    assert slept == []
    await pacer.wait("111111111111")
    assert slept == [0.25]
    for _ in range(4):
        await pacer.wait("222222222222")
    assert slept == [0.25]
    clock[0] += 10.0  # an idle account refills, but never beyond one second's worth
    for _ in range(4):
        await pacer.wait("111111111111")
    await pacer.wait("111111111111")
    assert slept == [0.25, 0.25]


async def test_callers_short_of_a_token_queue_and_wait_once() -> None:
    """Past its burst, each caller reserves the next token and waits for it once: the
    second waits twice as long as the first, and a clock that a short wait does not move
    (an epoch clock loses sub-microsecond steps) makes no caller wait again."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)  # the clock stays where it is

    pacer = AccountPacer(rate=2.0, clock=lambda: 1.8e9, sleep=sleep)
    for _ in range(4):
        await pacer.wait("111111111111")
    assert slept == [0.5, 1.0]


def test_scopes_that_took_many_pages_come_first() -> None:
    """The scopes with the most pages last time start first, longest first; the rest keep
    their interleaved order."""
    scopes = [Scope(a, r) for a in ("1", "2") for r in ("us-east-1", "eu-west-1")]
    plain = listing_order(scopes)
    hinted = listing_order(scopes, {("2", "eu-west-1"): 40, ("1", "us-east-1"): 3})
    assert hinted[:2] == [Scope("2", "eu-west-1"), Scope("1", "us-east-1")]
    assert hinted[2:] == [s for s in plain if s not in hinted[:2]]


def test_sts_clients_use_regional_endpoints_whatever_the_aws_config_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tokens from the global STS endpoint are refused in opt-in regions, so the collector's
    sessions ask for regional STS endpoints even when the AWS config says `legacy` (under
    which botocore sends us-east-1 to sts.amazonaws.com)."""
    config = tmp_path / "config"
    config.write_text("[default]\nsts_regional_endpoints = legacy\n")
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    clients = AwsClients(AwsOptions())

    async def endpoints() -> set[str]:
        found = set()
        for session in (clients.base, clients._acting):  # both sessions the run signs with
            async with session.create_client(
                "sts",
                region_name="us-east-1",
                aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ) as sts:
                found.add(sts.meta.endpoint_url)
        return found

    assert anyio.run(endpoints) == {"https://sts.us-east-1.amazonaws.com"}


def test_fips_goes_only_to_fips_endpoints_that_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under AWS_USE_FIPS_ENDPOINT, STS and EC2 clients use a FIPS endpoint where botocore's
    endpoint data has one, and the region's standard endpoint elsewhere: never a FIPS host
    name the data does not have (STS has FIPS endpoints in four US regions only)."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    endpoints = AioSession().get_component("data_loader").load_data("endpoints")
    (aws,) = [p for p in endpoints["partitions"] if p["partition"] == "aws"]
    fips_hosts = {
        variant["hostname"]
        for service in ("sts", "ec2")
        for endpoint in aws["services"][service]["endpoints"].values()
        for variant in endpoint.get("variants", [])
        if "fips" in variant.get("tags", [])
    }
    regions = ("us-east-1", "us-west-2", "ca-central-1", "eu-west-1", "ap-southeast-2")

    async def hosts() -> dict[tuple[str, str], str]:
        async with AwsClients(AwsOptions()) as clients:
            return {
                (service, region): str(
                    (await clients.base_client(service, region)).meta.endpoint_url
                )
                for service in ("sts", "ec2")
                for region in regions
            }

    found = anyio.run(hosts)
    assert found[("sts", "us-east-1")] == "https://sts-fips.us-east-1.amazonaws.com"
    assert found[("sts", "eu-west-1")] == "https://sts.eu-west-1.amazonaws.com"
    assert found[("ec2", "ca-central-1")] == "https://ec2-fips.ca-central-1.amazonaws.com"
    assert found[("ec2", "eu-west-1")] == "https://ec2.eu-west-1.amazonaws.com"
    for url in found.values():
        host = url.removeprefix("https://")
        assert "-fips." not in host or host in fips_hosts, host
    for region in aws["regions"]:
        for service in ("sts", "ec2"):
            variants = aws["services"][service]["endpoints"].get(region, {}).get("variants", [])
            listed = any("fips" in v.get("tags", []) for v in variants)
            assert has_fips_endpoint(endpoints, service, region) == listed, (service, region)


def test_both_sessions_read_botocores_data_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's two sessions share one data loader, so botocore's endpoint data (7 MB once
    parsed) is loaded once and the AppFlow clients use the very same copy."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    async def loaders() -> tuple[Any, Any, Any]:
        async with AwsClients(AwsOptions()) as clients:
            await clients.appflow("eu-west-1")
            base = clients.base.get_component("data_loader")
            acting = clients._acting.get_component("data_loader")
            return base, acting, base.load_data("endpoints")

    base, acting, endpoints = anyio.run(loaders)
    assert acting is base
    assert acting.load_data("endpoints") is endpoints


def test_runs_of_one_process_share_the_service_models_not_the_endpoint_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second run in the same process reuses the first run's parsed AppFlow model, but
    reads botocore's endpoint data afresh (its endpoint resolver writes into it)."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))

    async def one_run() -> tuple[Any, Any]:
        async with AwsClients(AwsOptions()) as clients:
            loader = clients.base.get_component("data_loader")
            return loader.load_service_model("appflow", "service-2"), loader.load_data("endpoints")

    (model, endpoints), (model_again, endpoints_again) = anyio.run(one_run), anyio.run(one_run)
    assert model_again is model
    assert endpoints_again is not endpoints
    assert endpoints_again == endpoints


def test_the_shared_loader_searches_aws_data_path_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_DATA_PATH still names folders searched before botocore's own, as botocore's loader
    does; a model found there is not confused with botocore's by the loaders that do not
    search there."""
    own = tmp_path / "models"
    version = create_loader().determine_latest_version("appflow", "service-2")
    (own / "appflow" / version).mkdir(parents=True)
    (own / "appflow" / version / "service-2.json").write_text('{"shapes": {}, "ours": true}')
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))

    async def loader() -> Any:
        async with AwsClients(AwsOptions()) as clients:
            return clients.base.get_component("data_loader")

    monkeypatch.setenv("AWS_DATA_PATH", str(own))
    with_own = anyio.run(loader)
    monkeypatch.delenv("AWS_DATA_PATH")
    without = anyio.run(loader)
    assert with_own.search_paths == create_loader(str(own)).search_paths
    assert with_own.search_paths[0] == str(own)
    assert with_own.load_service_model("appflow", "service-2").get("ours") is True
    assert "ours" not in without.load_service_model("appflow", "service-2")


def test_runs_of_one_process_share_ssl_contexts_until_their_files_change(tmp_path: Path) -> None:
    """Every client's HTTP session, in this run or a later one of the process, gets the SSL
    context already built from the same settings (loading a CA bundle costs milliseconds);
    a CA bundle edited in place gets a new one, and so does another setting."""
    bundle = tmp_path / "ca.pem"
    certificates = Path(get_cert_path(True)).read_text()
    bundle.write_text(certificates)

    def contexts(verify: bool | str) -> Any:
        return HTTP_SESSION(verify=verify)._build_ssl_contexts(None)

    first = contexts(str(bundle))
    assert contexts(str(bundle)) is first
    assert contexts(str(bundle))[0].cert_store_stats() == first[0].cert_store_stats()
    one = certificates[: certificates.index("-----END CERTIFICATE-----") + 26]
    bundle.write_text(one)  # a new size, so a new identity whatever the clock's resolution
    rotated = contexts(str(bundle))
    assert rotated is not first
    assert rotated[0].cert_store_stats()["x509_ca"] == 1
    assert contexts(True) is contexts(True)
    assert contexts(False) is not contexts(True)
    assert contexts(False)[0].verify_mode == ssl.CERT_NONE


def test_new_sessions_hold_the_built_in_handlers_each_their_own_copy() -> None:
    """`new_session` gives what `AioSession()` gives: every built-in handler of botocore, in
    the same order; a handler registered on one session reaches no other."""

    def handlers(session: AioSession, event: str) -> list[Any]:
        return list(session._original_handler._handlers.prefix_search(event))

    made, copied, other = AioSession(), new_session(), new_session()
    events = {spec[0] for spec in BUILTIN_HANDLERS}
    assert len(events) > 50
    for event in events:
        assert handlers(copied, event) == handlers(made, event), event

    def probe(**kwargs: Any) -> None:
        return None

    copied.register("before-call.appflow.ListFlows", probe)
    assert probe in handlers(copied, "before-call.appflow.ListFlows")
    for session in (other, new_session()):
        assert probe not in handlers(session, "before-call.appflow.ListFlows")
