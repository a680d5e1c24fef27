"""What a run says when it ends, end to end: failures grouped by cause in the summary, only
JSON lines with `--log-format json` ending with `run_finished`, `--summary-file`, and what
`-v` and `-vv` show."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from collector.simulator import Organization, Simulator, generate_organization

from ..support import ROLE, Cli, collector_command, run_args

REGIONS = ("us-east-1", "eu-west-1", "af-south-1")


@pytest.fixture
def org() -> Organization:
    """Six accounts in three regions, af-south-1 (opt-in) not enabled in some."""
    return generate_organization(seed=47, accounts=6, empty_fraction=0.5, regions=REGIONS)


def wrong_role(url: str, *extra: str) -> list[str]:
    """A role name no account has; the caller's own account may not stand in either."""
    args = run_args(url, REGIONS, "--no-caller-credentials", *extra)
    args[args.index(ROLE)] = "Wrong"
    return args


def test_a_wrong_role_is_one_group_in_the_summary(sim: Simulator, cli: Cli, tmp_path: Path) -> None:
    """18 scopes failing to assume the role make one line of the summary with the count,
    the accounts and the fix, three examples from three accounts and where to look; the log
    keeps one line per scope."""
    result = cli.run(wrong_role(f"sqlite:///{tmp_path / 'i.db'}"), sim.env())
    assert result.code == 1
    lines = result.out.splitlines()
    groups = [line for line in lines if line.startswith("failed ")]
    assert groups == [
        "failed assume_role_failed (AccessDenied) in 18 scopes, 6 of 6 accounts: check "
        "--role-name and --external-id, and the role's trust policy in those accounts "
        "(deploy/cloudformation/member-role.yaml)"
    ]
    examples = [line for line in lines if line.startswith("  failed ")]
    assert len(examples) == 3
    assert len({line.split()[1] for line in examples}) == 3
    assert "  ... and 15 more" in lines
    run_id = lines[0].split()[1]
    assert lines[-1] == f"details: collector runs --run {run_id}"
    assert len([line for line in result.err.splitlines() if "assume_role_failed" in line]) == 18


def test_skipped_scopes_are_reported_by_their_code(
    org: Organization, sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """Scopes skipped as opt-in regions the account has not enabled are one line by code."""
    disabled = [a.id for a in org.account_list() if "af-south-1" not in a.enabled_regions()]
    assert disabled
    result = cli.collect(f"sqlite:///{tmp_path / 'i.db'}", sim, REGIONS)
    assert result.code == 0, result.err
    skipped = [line for line in result.out.splitlines() if line.startswith("skipped ")]
    scopes = "1 scope" if len(disabled) == 1 else f"{len(disabled)} scopes"
    assert skipped == [
        f"skipped region_not_enabled (UnrecognizedClientException) in {scopes}, "
        f"{len(disabled)} of 6 accounts: nothing to do: an opt-in region these accounts have "
        "not enabled (leave it out of --regions to skip asking)"
    ]


def test_json_logs_leave_nothing_but_json(sim: Simulator, cli: Cli, tmp_path: Path) -> None:
    """With `--log-format json` every line of stdout and stderr is JSON, and stdout ends
    with one `run_finished` event holding the run's result, failures grouped."""
    summary = tmp_path / "summary.json"
    args = wrong_role(
        f"sqlite:///{tmp_path / 'i.db'}", "--log-format", "json", "--summary-file", str(summary)
    )
    result = cli.run(args, sim.env())
    assert result.code == 1
    out = [json.loads(line) for line in result.out.splitlines()]
    err = [json.loads(line) for line in result.err.splitlines()]
    assert [e["event"] for e in out] == ["run_finished"]
    (finished,) = out
    assert (finished["status"], finished["exit_code"]) == ("failed", 1)
    assert finished["scopes"] == {"total": 18, "succeeded": 0, "failed": 18, "skipped": 0}
    (group,) = finished["failures"]
    assert (group["error_code"], group["cause"], group["scopes"], group["accounts"]) == (
        "assume_role_failed",
        "AccessDenied",
        18,
        6,
    )
    assert len([e for e in err if e["event"] == "scope_failed"]) == 18
    assert [e["event"] for e in err].count("run_planned") == 1
    # The file holds the same event, as a private file of its own.
    assert json.loads(summary.read_text()) == finished
    assert stat.S_IMODE(summary.stat().st_mode) == 0o600


def test_a_run_that_cannot_start_ends_with_its_event_too(cli: Cli, tmp_path: Path) -> None:
    """A run that cannot start (its database unreachable) prints, in JSON mode, one JSON
    error line on stderr and the `run_finished` event on stdout, and writes the file."""
    org = generate_organization(seed=2, accounts=1, regions=("us-east-1",))
    summary = tmp_path / "summary.json"
    url = "postgresql://collector:s3cret@127.0.0.1:1/inventory"
    with Simulator(org) as sim:
        args = [
            "run",
            "--database-url",
            url,
            "--log-format",
            "json",
            "--summary-file",
            str(summary),
        ]
        result = cli.run(args, sim.env())
    assert result.code == 3
    (error,) = [json.loads(line) for line in result.err.splitlines()]
    (finished,) = [json.loads(line) for line in result.out.splitlines()]
    assert (error["event"], error["exit_code"]) == ("error", 3)
    assert (finished["event"], finished["status"], finished["exit_code"]) == (
        "run_finished",
        "not_started",
        3,
    )
    assert "s3cret" not in result.out + result.err + summary.read_text()
    assert json.loads(summary.read_text()) == finished


def test_a_configuration_error_is_a_json_line_in_json_mode(cli: Cli) -> None:
    """Bad input with `--log-format json` is one JSON line on stderr, exit 2."""
    result = cli.run(["run", "--log-format", "json", "--accounts", "12345"])
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert json.loads(line)["message"] == "error: account id '12345' is not 12 digits"


def test_the_summary_file_is_never_written_through_a_link(
    sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """A link planted at the summary file's name is refused: logged, the target untouched,
    the run's exit code unchanged."""
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    link = tmp_path / "summary.json"
    link.symlink_to(target)
    result = cli.collect(
        f"sqlite:///{tmp_path / 'i.db'}", sim, REGIONS, "--summary-file", str(link)
    )
    assert result.code == 0, result.err
    assert target.read_text() == "keep"
    assert link.is_symlink()
    assert "cannot write summary file" in result.err


def test_verbose_after_the_command_shows_the_collector_s_events_with_counts(
    sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """`run -v` shows the plan and each scope with its counts, and no library debug line;
    `-vv` adds the database libraries' debug lines."""
    url = f"sqlite:///{tmp_path / 'i.db'}"
    verbose = cli.collect(url, sim, REGIONS, "-v")
    assert verbose.code == 0, verbose.err
    lines = verbose.err.splitlines()
    assert any(" INFO planned 18 scopes event=run_planned scopes=18" in line for line in lines)
    scopes = [line for line in lines if "event=scope_succeeded" in line]
    assert scopes
    assert all(" profiles=" in line and " pages=" in line for line in scopes)
    assert not any("aiosqlite" in line or "sqlalchemy" in line for line in lines)
    very = cli.run(["-vv", *run_args(url, REGIONS)], sim.env())
    assert very.code == 0, very.err
    assert any(
        "DEBUG" in line and ("aiosqlite" in line or "sqlalchemy" in line)
        for line in very.err.splitlines()
    )
    assert len(very.err.splitlines()) > len(lines)


def test_a_closed_stdout_keeps_the_run_s_own_exit_code(sim: Simulator, tmp_path: Path) -> None:
    """A run whose reader closed stdout still records everything and exits with its own
    code, quietly (no traceback)."""
    process = subprocess.Popen(
        collector_command(*wrong_role(f"sqlite:///{tmp_path / 'i.db'}")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **sim.env()},
    )
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert b"Traceback" not in err
    assert b"Broken pipe" not in err
