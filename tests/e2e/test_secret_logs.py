"""No credential in any output: full runs at every verbosity and log format, and what they store.

The simulator's AssumeRole hands out real-looking session credentials; a run that logs
AWS's requests and responses would print them (botocore logs AssumeRole's answer and every
signed request at DEBUG). These runs go through the real CLI in its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from collector.simulator import (
    BASE_ACCESS_KEY_ID,
    BASE_SECRET_ACCESS_KEY,
    Faults,
    Organization,
    Simulator,
    generate_organization,
)

from ..support import collector_command, issued_credentials, run_args

REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture
def org() -> Organization:
    return generate_organization(
        seed=41, accounts=3, empty_fraction=0.3, profiles_per_scope=(1, 4), regions=REGIONS
    )


@pytest.fixture
def faults(org: Organization) -> Faults:
    """Retries and failures too, so error paths are logged as well."""
    accounts = org.account_list()
    return Faults(
        seed=3,
        error_rate_500=0.2,
        deny_assume_role={accounts[1].id},
        failing_scopes={(accounts[2].id, "eu-west-1"): "AccessDeniedException"},
    )


def _run(sim: Simulator, tmp_path: Path, *flags: str, log_format: str) -> tuple[str, Path]:
    database = tmp_path / f"inventory-{log_format}-{len(flags)}.db"
    metrics = tmp_path / f"metrics-{log_format}-{len(flags)}.prom"
    args = run_args(f"sqlite:///{database}", REGIONS, "--log-format", log_format)
    done = subprocess.run(
        collector_command(*flags, *args, "--metrics-file", str(metrics)),
        env={**os.environ, **sim.env()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]  # the denied account and scope fail
    return done.stdout + done.stderr + metrics.read_text(), database


def _credentials(sim: Simulator) -> list[str]:
    issued = issued_credentials(sim)
    assert issued, "the run assumed no role"
    return [
        BASE_ACCESS_KEY_ID,
        BASE_SECRET_ACCESS_KEY,
        *(secret for credentials in issued for secret in credentials),
    ]


def _stored_bytes(database: Path) -> bytes:
    return b"".join(
        path.read_bytes() for path in database.parent.glob(database.name + "*") if path.is_file()
    )


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_verbose_run_logs_no_credential(sim: Simulator, tmp_path: Path, log_format: str) -> None:
    """`-v` logs the collector's debug lines but neither AWS's traffic nor any credential."""
    output, database = _run(sim, tmp_path, "-v", log_format=log_format)
    assert "DEBUG" in output or '"level": "debug"' in output
    assert "StringToSign" not in output  # botocore's signing details stay off
    assert "AssumeRoleResponse" not in output
    stored = _stored_bytes(database)
    for secret in _credentials(sim):
        assert secret not in output
        assert secret.encode() not in stored


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_debug_aws_logs_traffic_with_credentials_masked(
    sim: Simulator, tmp_path: Path, log_format: str
) -> None:
    """`--debug-aws` shows AWS's requests and responses, AssumeRole's included, masked."""
    output, _ = _run(sim, tmp_path, "-v", "--debug-aws", log_format=log_format)
    assert "AssumeRoleResponse" in output
    assert "SecretAccessKey>***<" in output
    assert "StringToSign" in output
    for secret in _credentials(sim):
        assert secret not in output
    if log_format == "json":
        for line in output.splitlines():
            if line.startswith("{"):
                json.loads(line)
