"""Base credentials that cannot be had, and credentials that expire mid-run.

A person's credentials are often an SSO session that is not logged in, or a
`credential_process` that fails: each is one line naming the fix, exit 2, no traceback and
no run row. Credentials that expire mid-run and cannot be renewed fail only the scopes that
needed them, as `credentials_expired`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from collector.simulator import Simulator, generate_organization

from ..support import ROLE, Cli, fetch

START_URL = "https://corp.awsapps.com/start"

CONFIG = f"""
[profile ssonew]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Reader
region = us-east-1

[sso-session corp]
sso_start_url = {START_URL}
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile ssolegacy]
sso_start_url = {START_URL}
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = Reader
region = us-east-1

[profile failing]
credential_process = {sys.executable} -c "import sys; sys.exit('the identity provider is down')"
region = us-east-1

[profile webidentity]
role_arn = arn:aws:iam::111122223333:role/reader
web_identity_token_file = /nonexistent/token
region = us-east-1
"""

# Prints credentials that are always within botocore's mandatory refresh window (5 minutes
# left), so every signed call runs the process again; it fails from call LIMIT + 1 on.
COUNTING_PROCESS = """
import datetime, json, pathlib, sys
counter = pathlib.Path(sys.argv[1])
calls = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(calls + 1))
if calls >= int(sys.argv[2]):
    sys.exit("the identity provider refused")
expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
print(json.dumps({
    "Version": 1,
    "AccessKeyId": "AKIAIOSFODNN7EXAMPLE",
    "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "SessionToken": "session-token",
    "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
}))
"""


def aws_home(tmp_path: Path, expired_tokens: bool = False) -> dict[str, str]:
    """A HOME with the shared config above (and, optionally, expired cached SSO tokens)."""
    home = tmp_path / "home"
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    config = home / ".aws" / "config"
    config.write_text(CONFIG, encoding="utf-8")
    (home / ".aws" / "credentials").write_text("", encoding="utf-8")
    if expired_tokens:
        token = {"region": "us-east-1", "accessToken": "old", "expiresAt": "2020-01-01T00:00:00Z"}
        for key in (START_URL, "corp"):
            name = hashlib.sha1(key.encode()).hexdigest() + ".json"
            (cache / name).write_text(json.dumps({**token, "startUrl": START_URL}))
    return {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def assert_exit_2_before_the_database(result_code: int, err: str, url: str) -> str:
    assert result_code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert not Path(url.removeprefix("sqlite:///")).exists(), "no run row, no database touched"
    return lines[0]


def test_sso_session_not_logged_in(empty_sqlite_url: str, tmp_path: Path, cli: Cli) -> None:
    """An SSO session never logged in exits 2 with `aws sso login --sso-session NAME`."""
    env = {**aws_home(tmp_path), "AWS_PROFILE": "ssonew"}
    result = cli.run(["run", "--database-url", empty_sqlite_url], env)
    line = assert_exit_2_before_the_database(result.code, result.err, empty_sqlite_url)
    assert "run 'aws sso login --sso-session corp'" in line
    assert "'ssonew'" in line


def test_sso_session_expired(empty_sqlite_url: str, tmp_path: Path, cli: Cli) -> None:
    """An expired SSO token exits 2 naming the login to run: the session's, or the legacy
    profile's."""
    env = aws_home(tmp_path, expired_tokens=True)
    session = cli.run(["run", "--database-url", empty_sqlite_url], {**env, "AWS_PROFILE": "ssonew"})
    line = assert_exit_2_before_the_database(session.code, session.err, empty_sqlite_url)
    assert "aws sso login --sso-session corp" in line
    legacy = cli.run(
        ["run", "--database-url", empty_sqlite_url], {**env, "AWS_PROFILE": "ssolegacy"}
    )
    line = assert_exit_2_before_the_database(legacy.code, legacy.err, empty_sqlite_url)
    assert "aws sso login --profile ssolegacy" in line


def test_failing_credential_process(empty_sqlite_url: str, tmp_path: Path, cli: Cli) -> None:
    """A `credential_process` that fails exits 2 naming the profile and what it said."""
    env = {**aws_home(tmp_path), "AWS_PROFILE": "failing"}
    result = cli.run(["run", "--database-url", empty_sqlite_url], env)
    line = assert_exit_2_before_the_database(result.code, result.err, empty_sqlite_url)
    assert "credential_process" in line
    assert "'failing'" in line
    assert "the identity provider is down" in line


def test_missing_web_identity_token_file(empty_sqlite_url: str, tmp_path: Path, cli: Cli) -> None:
    """A web identity token file that is gone exits 2 naming the file."""
    env = {**aws_home(tmp_path), "AWS_PROFILE": "webidentity"}
    result = cli.run(["run", "--database-url", empty_sqlite_url], env)
    line = assert_exit_2_before_the_database(result.code, result.err, empty_sqlite_url)
    assert "/nonexistent/token" in line


def test_unknown_profile(empty_sqlite_url: str, tmp_path: Path, cli: Cli) -> None:
    """A profile the shared config does not have exits 2 naming it."""
    env = {**aws_home(tmp_path), "AWS_PROFILE": "nosuch"}
    result = cli.run(["run", "--database-url", empty_sqlite_url], env)
    line = assert_exit_2_before_the_database(result.code, result.err, empty_sqlite_url)
    assert "'nosuch'" in line


def test_base_credentials_failing_to_refresh_mid_run(
    sqlite_url: str, tmp_path: Path, cli: Cli
) -> None:
    """Base credentials whose `credential_process` stops working mid-run fail the scopes
    that needed them as `credentials_expired`; the run finishes `partial`, exit 1."""
    org = generate_organization(
        seed=12, accounts=1, empty_fraction=0.0, regions=("us-east-1", "eu-west-1")
    )
    script = tmp_path / "credentials.py"
    script.write_text(COUNTING_PROCESS, encoding="utf-8")
    config = tmp_path / "config"
    # Calls: resolve at start, first signature, GetCallerIdentity, the first scope's page;
    # the second scope's call finds the process refusing.
    config.write_text(
        "[profile counting]\nregion = us-east-1\n"
        f"credential_process = {sys.executable} {script} {tmp_path / 'calls'} 4\n",
        encoding="utf-8",
    )
    with Simulator(org) as sim:
        env = {
            **{k: v for k, v in sim.env().items() if k.startswith("AWS_ENDPOINT_URL")},
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_PROFILE": "counting",
        }
        result = cli.run(
            [
                "run",
                "--database-url",
                sqlite_url,
                "--regions",
                "us-east-1,eu-west-1",
                "--concurrency",
                "1",
                # One call per scope, so the calls above are counted exactly.
                "--resources",
                "profiles",
            ],
            env,
        )
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    scopes = fetch(sqlite_url, "SELECT region, status, error_code FROM collection_scopes")
    assert {(s["region"], s["status"], s["error_code"]) for s in scopes} == {
        ("us-east-1", "succeeded", None),
        ("eu-west-1", "failed", "credentials_expired"),
    }
    assert fetch(sqlite_url, "SELECT status FROM collection_runs") == [{"status": "partial"}]


def test_role_credentials_failing_to_refresh_mid_run(sqlite_url: str, cli: Cli) -> None:
    """A role whose credentials must be renewed but can no longer be assumed fails its
    account's scopes as `credentials_expired`; the other accounts succeed; exit 1."""
    org = generate_organization(seed=13, accounts=3, empty_fraction=0.0, regions=("us-east-1",))
    doomed = org.account_list()[1].id
    with Simulator(org) as sim:
        # Credentials living 500 s are inside botocore's mandatory refresh window at once:
        # every call renews them, and the doomed account's role may be assumed only once.
        sim.credential_lifetime_cap = 500.0
        sim.faults.assume_role_quota[doomed] = 1
        result = cli.run(
            [
                "run",
                "--database-url",
                sqlite_url,
                "--organization",
                "--role-name",
                ROLE,
                "--regions",
                "us-east-1",
            ],
            sim.env(),
        )
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    scopes = {
        s["account_id"]: (s["status"], s["error_code"])
        for s in fetch(sqlite_url, "SELECT account_id, status, error_code FROM collection_scopes")
    }
    assert scopes.pop(doomed) == ("failed", "credentials_expired")
    assert set(scopes.values()) == {("succeeded", None)}
    assert fetch(sqlite_url, "SELECT status FROM collection_runs") == [{"status": "partial"}]
