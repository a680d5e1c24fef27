"""The command line's contract: exit codes, one-line errors, subprocess use, time zones."""

from __future__ import annotations

import os
import shlex
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.simulator import PROFILES, Simulator, generate_organization
from collector.simulator._simulator import endpoint_env

from ..support import Cli, collector_command, fetch, run_args


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--accounts", "12345"], "account id '12345' is not 12 digits"),
        (["run", "--regions", "us-east-1,moon-1"], "'moon-1' is not a region name"),
        (["run", "--config", "/nonexistent/collector.toml"], "does not exist"),
        (["run", "--database-url", "oracle://db/x"], "supported are sqlite:/// and postgresql://"),
        (["run", "--database-url", "postgresql://u@h:port/db"], "is not a valid URL"),
        (["run", "--concurrency", "0"], "--concurrency must be at least 1"),
        (["run", "--accounts", "123456789012", "--organization"], "cannot be used together"),
        (["db", "upgrade", "--database-url", "mysql://x/y"], "supported are"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, cli: Cli) -> None:
    """Each usage or configuration error exits 2 with one line on stderr naming the problem."""
    result = cli.run(args)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert message in lines[0]
    assert "Traceback" not in result.err


def test_unreadable_config_file(tmp_path: Path, cli: Cli) -> None:
    """A config file that is not TOML, or has unknown keys, exits 2 and says which."""
    broken = tmp_path / "broken.toml"
    broken.write_text("concurrency = [unclosed\n")
    result = cli.run(["run", "--config", str(broken)])
    assert result.code == 2
    assert "is not valid TOML" in result.err
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('database_url = "sqlite:///x.db"\nconcurency = 5\n')
    result = cli.run(["run", "--config", str(unknown)])
    assert result.code == 2
    assert "unknown key(s): concurency" in result.err


def test_unreachable_database_exits_3(cli: Cli) -> None:
    """A database that refuses connections exits 3 with one line and no password in it."""
    url = "postgresql://collector:s3cret@127.0.0.1:1/inventory"
    org = generate_organization(seed=2, accounts=1, regions=("us-east-1",))
    with Simulator(org) as sim:  # AWS is checked first: give the run an AWS to check
        results = [
            cli.run(["run", "--database-url", url], sim.env()),
            cli.run(["db", "upgrade", "--database-url", url]),
        ]
    for result in results:
        assert result.code == 3
        assert len(result.err.strip().splitlines()) == 1
        assert "s3cret" not in result.err
        assert "127.0.0.1:1" in result.err


def test_newer_schema_is_refused(empty_sqlite_url: str, cli: Cli) -> None:
    """A database migrated by a newer collector is refused with exit 3, not altered."""
    assert cli.run(["db", "upgrade", "--database-url", empty_sqlite_url]).code == 0
    path = empty_sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    result = cli.run(["db", "upgrade", "--database-url", empty_sqlite_url])
    assert result.code == 3
    assert "newer than this collector knows" in result.err


def test_flags_beat_environment_beat_file(tmp_path: Path, cli: Cli) -> None:
    """The database URL comes from the flag over COLLECTOR_DATABASE_URL over the TOML file."""
    config = tmp_path / "collector.toml"
    from_file, from_env, from_flag = (tmp_path / f"{n}.db" for n in ("file", "env", "flag"))
    config.write_text(f'database_url = "sqlite:///{from_file}"\n')
    env = {"COLLECTOR_DATABASE_URL": f"sqlite:///{from_env}"}
    cli.run(["db", "upgrade", "--config", str(config)])
    assert from_file.exists()
    cli.run(["db", "upgrade", "--config", str(config)], env)
    assert from_env.exists()
    args = ["db", "upgrade", "--config", str(config), "--database-url", f"sqlite:///{from_flag}"]
    cli.run(args, env)
    assert from_flag.exists()


def test_console_script_in_another_time_zone(tmp_path: Path) -> None:
    """`python -m collector run` in a real process stores UTC whatever TZ the machine has."""
    org = generate_organization(seed=2, accounts=2, empty_fraction=0.0, regions=("us-west-2",))
    url = f"sqlite:///{tmp_path / 'tz.db'}"
    with Simulator(org) as sim:
        env = {**os.environ, **sim.env(), "TZ": "Pacific/Kiritimati"}
        done = subprocess.run(
            collector_command(*run_args(url, "us-west-2")),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert "succeeded" in done.stdout
    expected = {
        str(p["connectorProfileArn"]): float(p["createdAt"])
        for a in org.account_list()
        for p in org.items(PROFILES, a.id, "us-west-2")
        if "createdAt" in p
    }
    rows = fetch(url, "SELECT connector_profile_arn, created_at FROM connector_profiles")
    assert len(rows) == len(org.all_items(PROFILES))
    for row in rows:
        if row["connector_profile_arn"] in expected:
            # SQLite keeps UTC as text without an offset.
            stamp = datetime.fromisoformat(row["created_at"]).replace(tzinfo=UTC).timestamp()
            assert abs(stamp - expected[row["connector_profile_arn"]]) < 1e-3


def test_assume_role_once_per_account(sqlite_url: str, cli: Cli) -> None:
    """Each account's role is assumed once per run, however many regions are listed."""
    regions = ("us-east-1", "eu-west-1", "eu-west-2")
    org = generate_organization(seed=8, accounts=5, regions=regions)
    with Simulator(org) as sim:
        assert cli.collect(sqlite_url, sim, regions).code == 0
        assert sim.stats.count("sts", "AssumeRole") == 5


def test_caller_account_alone_without_role(sqlite_url: str, cli: Cli) -> None:
    """Without --role-name the run covers only the current credentials' account."""
    org = generate_organization(seed=9, accounts=3, empty_fraction=0.0, regions=("us-east-1",))
    with Simulator(org) as sim:
        args = ["run", "--database-url", sqlite_url, "--regions", "us-east-1"]
        assert cli.run(args, sim.env()).code == 0
        assert sim.stats.count("sts", "AssumeRole") == 0
        wrong = cli.run([*args, "--accounts", "000000000001"], sim.env())
    accounts = fetch(sqlite_url, "SELECT DISTINCT account_id FROM connector_profiles")
    assert [a["account_id"] for a in accounts] == [org.management_account_id]
    assert wrong.code == 2
    assert "give --role-name" in wrong.err


@dataclass(frozen=True)
class Demo:
    folder: Path
    done: subprocess.CompletedProcess[str]

    @property
    def url(self) -> str:
        return f"sqlite:///{self.folder / 'appflow-demo.db'}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`collector demo` as `make demo` runs it, once for the tests that read what it left
    (each demo run is some twenty seconds of paced requests)."""
    folder = tmp_path_factory.mktemp("demo")
    done = subprocess.run(
        collector_command("demo"),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COLLECTOR_"))},
    )
    return Demo(folder, done)


@pytest.mark.slow
def test_demo_runs_and_leaves_a_database(demo: Demo) -> None:
    """`collector demo` runs both passes, prints what changed and leaves the SQLite file."""
    done = demo.done
    assert done.returncode == 0, done.stderr
    assert "First pass" in done.stdout
    assert "Second pass" in done.stdout
    assert "What changed between the passes" in done.stdout
    url = demo.url
    kinds = {
        r["change_type"] for r in fetch(url, "SELECT change_type FROM connector_profile_versions")
    }
    assert {"created", "updated", "deleted"} <= kinds
    # The demo shows which flows use which profiles, from links it stored.
    assert "Which flows use each profile (flow_connector_profiles)" in done.stdout
    links = fetch(
        url,
        "SELECT l.role, l.connector_profile_arn, p.connector_profile_name AS profile_name,"
        " l.connector_profile_name FROM flow_connector_profiles l"
        " JOIN connector_profiles p USING (connector_profile_arn)",
    )
    assert links
    assert {link["role"] for link in links} == {"source", "destination"}
    assert all(link["profile_name"] == link["connector_profile_name"] for link in links)


def test_the_simulator_prints_the_environment_that_points_collector_at_it(
    cli: Cli, tmp_path: Path
) -> None:
    """`python -m collector.simulator --print-env` prints, once listening, `export` lines
    that are enough for `collector` to use it: a check through them passes."""
    # The `with` closes the pipe: an open one is a ResourceWarning, an error in this suite.
    with subprocess.Popen(
        [sys.executable, "-m", "collector.simulator", "--accounts", "3", "--print-env"],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().startswith("listening http://127.0.0.1:")
            env: dict[str, str] = {}
            while len(env) < len(endpoint_env("http://x")):
                line = process.stdout.readline()
                assert line.startswith("export "), line
                name, _, value = shlex.split(line.removeprefix("export "))[0].partition("=")
                env[name] = value
            assert set(env) == set(endpoint_env("http://x"))
            url = f"sqlite:///{tmp_path / 'inventory.db'}"
            result = cli.run(["check", "--regions", "us-east-1", "--database-url", url], env)
            assert result.code == 0, result.out + result.err
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0


@pytest.mark.slow
def test_every_read_command_and_query_the_demo_suggests_answers(
    demo: Demo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`collector demo`, as `make demo` runs it, ends with read commands and SQL to try on
    its database; each of them runs and returns rows."""
    done = demo.done
    assert done.returncode == 0, done.stderr
    tail = done.stdout.split("\nThe inventory is in appflow-demo.db.", 1)[1]
    commands = [line.strip() for line in tail.splitlines() if line.startswith("  collector ")]
    assert {shlex.split(c)[1] for c in commands} >= {"show", "changes", "runs", "history"}
    monkeypatch.chdir(demo.folder)
    for command in commands:
        result = cli.run(shlex.split(command)[1:])
        assert result.code == 0, (command, result.err)
        assert len(result.out.splitlines()) >= 2, command  # a header and a row at least
    sql = [block.strip() for block in tail.split("\n\n") if block.strip().startswith("-- ")]
    assert len(sql) >= 5
    url = demo.url
    for statement in sql:
        assert fetch(url, statement.rstrip(";")), statement
        result = cli.run(["query", "--database-url", url, statement.rstrip(";")])
        assert result.code == 0, (statement, result.err)
