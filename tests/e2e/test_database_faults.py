"""The database failing under a run: a stopped PostgreSQL, a read-only or full SQLite file,
and a schema newer than the code.

The PostgreSQL case stops a server of its own (the server is what is under test there, and
every other test shares the run's) in the middle of a run and starts it again. Without the
PostgreSQL binaries that case fails in CI and is skipped elsewhere, like every PostgreSQL test.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from collector._cli import main
from collector.simulator import PROFILES, Faults, Organization, Simulator, generate_organization

from ..support import (
    Cli,
    PostgresCluster,
    assert_history_consistent,
    collector_command,
    fetch,
    postgres_cluster,
    postgres_execute,
    run_args,
    wait_for,
)

REGIONS = ("us-east-1", "eu-west-1")


def truth_by_scope(org: Organization) -> dict[tuple[str, str], set[str]]:
    return {
        (a.id, r): {str(p["connectorProfileArn"]) for p in org.items(PROFILES, a.id, r)}
        for a in org.account_list()
        for r in REGIONS
    }


def assert_one_line_error(code: int, stderr: str, expected: int = 3) -> str:
    """The process exited `expected` with exactly one line on stderr and no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert code == expected, stderr
    assert lines[0].startswith("collector: cannot run: "), lines[0]
    return lines[0]


def assert_committed_scopes_intact(url: str, org: Organization) -> dict[str, Any]:
    """After a run died mid-way: each recorded scope is wholly applied, nothing else is.

    Returns the interrupted run's row.
    """
    runs = fetch(url, "SELECT run_id, status, finished_at FROM collection_runs")
    assert len(runs) == 1
    run = runs[0]
    assert run["status"] == "running"
    assert run["finished_at"] is None
    truth = truth_by_scope(org)
    committed = fetch(url, "SELECT account_id, region, status, profiles FROM collection_scopes")
    assert 0 < len(committed) < len(truth), "the database did not fail in the middle of the run"
    stored: dict[tuple[str, str], set[str]] = {}
    for row in fetch(
        url, "SELECT connector_profile_arn, account_id, region FROM connector_profiles"
    ):
        stored.setdefault((row["account_id"], row["region"]), set()).add(
            row["connector_profile_arn"]
        )
    for scope in committed:
        key = (scope["account_id"], scope["region"])
        assert scope["status"] == "succeeded", scope
        assert stored.get(key, set()) == truth[key], key
        assert scope["profiles"] == len(truth[key])
    # No half-written scope: profiles exist only in scopes whose row was committed with them.
    assert set(stored) <= {(s["account_id"], s["region"]) for s in committed}
    chains = assert_history_consistent(url)
    assert {tuple(v["change_type"] for v in chain) for chain in chains.values()} <= {("created",)}
    return run


def assert_recovered(url: str, org: Organization, interrupted_run_id: str) -> None:
    """After a clean run that followed a failed one, the inventory is the truth, created once."""
    live = fetch(url, "SELECT connector_profile_arn FROM connector_profiles")
    assert {r["connector_profile_arn"] for r in live} == set().union(*truth_by_scope(org).values())
    chains = assert_history_consistent(url)
    assert {tuple(v["change_type"] for v in chain) for chain in chains.values()} == {("created",)}
    runs = {
        r["run_id"]: r
        for r in fetch(url, "SELECT run_id, status, profiles_created FROM collection_runs")
    }
    assert len(runs) == 2
    assert runs.pop(interrupted_run_id)["status"] == "interrupted"
    (second,) = runs.values()
    assert second["status"] == "succeeded"
    committed_before = fetch(
        url,
        "SELECT coalesce(sum(profiles), 0) AS n FROM collection_scopes WHERE run_id = :run_id",
        run_id=interrupted_run_id,
    )[0]["n"]
    assert second["profiles_created"] == len(live) - committed_before


# --- PostgreSQL stopped in the middle of a run ------------------------------------------


@dataclass(frozen=True)
class StoppedServerRun:
    """A run whose PostgreSQL server was stopped mid-way, and the clean run after it."""

    org: Organization
    url: str
    crashed: subprocess.CompletedProcess[str]
    after_crash_url: str
    """A copy of the database as the stopped server left it (before the next run)."""
    second: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def stopped_server_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoppedServerRun]:
    with postgres_cluster(["host all collector 127.0.0.1/32 trust"]) as server:
        server.admin("CREATE DATABASE inventory")
        url = sa.make_url(server.url).set(database="inventory").render_as_string()
        copy_url = sa.make_url(server.url).set(database="after_crash").render_as_string()
        yield stopped_server_run_on(server, url, copy_url, tmp_path_factory.mktemp("stopped"))


def stopped_server_run_on(
    server: PostgresCluster, url: str, copy_url: str, cwd: Path
) -> StoppedServerRun:
    org = generate_organization(
        seed=31,
        accounts=10,
        empty_fraction=0.1,
        profiles_per_scope=(1, 30),
        regions=REGIONS,
        short_page_fraction=0.0,
    )
    # 0.2 s per request, two scopes at a time: the run lasts several seconds.
    with Simulator(org, Faults(latency=0.2)) as sim:
        env = {**os.environ, **sim.env()}
        process = subprocess.Popen(
            # No patience: this database stays away (test_database_failover.py has one
            # that comes back).
            collector_command(
                *run_args(url, REGIONS, "--concurrency", "2", "--database-patience", "0")
            ),
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:

            def some_scopes_committed() -> bool:
                assert process.poll() is None, "the run ended before the server was stopped"
                try:
                    rows = fetch(url, "SELECT count(*) AS n FROM collection_scopes")
                except sa.exc.ProgrammingError:  # the run has not created its tables yet
                    return False
                return bool(rows[0]["n"] >= 4)

            wait_for(some_scopes_committed, "the first scopes to be committed")
            server.stop()
            out, err = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if not server.running():
                server.start()
        crashed = subprocess.CompletedProcess(process.args, process.returncode, out, err)
        server.admin("CREATE DATABASE after_crash TEMPLATE inventory")
        sim.faults.latency = 0.0
        second = subprocess.run(
            collector_command(*run_args(url, REGIONS)),
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    return StoppedServerRun(org, url, crashed, copy_url, second)


@pytest.mark.slow
def test_stopped_postgres_exits_3_with_one_line(stopped_server_run: StoppedServerRun) -> None:
    """A run whose PostgreSQL server goes away exits 3 with a one-line error, no traceback."""
    crashed = stopped_server_run.crashed
    line = assert_one_line_error(crashed.returncode, crashed.stderr)
    assert "database" in line


def test_stopped_postgres_leaves_only_whole_scopes(stopped_server_run: StoppedServerRun) -> None:
    """After the server stops mid-run, every committed scope is complete and nothing else is."""
    assert_committed_scopes_intact(stopped_server_run.after_crash_url, stopped_server_run.org)


def test_next_run_after_restart_completes_the_history(stopped_server_run: StoppedServerRun) -> None:
    """The next run after a restart succeeds, creates each profile once, and ends the old run."""
    second = stopped_server_run.second
    assert second.returncode == 0, second.stderr
    interrupted = fetch(stopped_server_run.after_crash_url, "SELECT run_id FROM collection_runs")
    assert_recovered(stopped_server_run.url, stopped_server_run.org, interrupted[0]["run_id"])


# --- SQLite that cannot be written ----------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Linux capabilities (linux/capability.h) that let root ignore a file's mode.
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER = 1, 2, 3
_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_file_mode_overrides() -> None:
    """Give up root's power to ignore file modes, and only that: this process keeps root's
    identity, so it still reads everything root owns (the virtualenv, botocore's data, in a
    checkout that may sit in a 0700 folder) but, like any user, cannot write a file or folder
    whose mode denies it to its owner."""
    libc = ctypes.CDLL(None, use_errno=True)
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget failed")
    kept = ~((1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH) | (1 << _CAP_FOWNER))
    for half in data:
        half.effective &= kept
        half.permitted &= kept
        half.inheritable &= kept
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def run_unprivileged(args: Sequence[str]) -> tuple[int, str]:
    """`collector ARGS` in a forked process without root's power to ignore file modes.

    As root the child drops that power (`drop_file_mode_overrides`) rather than becoming
    another user: another user could not read the virtualenv when the checkout is in a private
    folder, and botocore loads its data lazily. Returns the exit code and stderr.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 99
        try:
            os.close(read_end)
            sys.stderr = os.fdopen(write_end, "w")
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the child exits below
            if os.geteuid() == 0:
                drop_file_mode_overrides()
            code = main(list(args))
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        err = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


@pytest.mark.parametrize("layout", ["file and directory 0444", "file 0444 in a 0555 directory"])
def test_read_only_sqlite_file_exits_3(layout: str, tmp_path: Path, cli: Cli) -> None:
    """A SQLite file its user cannot write exits 3 with one line and is left unchanged."""
    directory = tmp_path / "inventory"
    directory.mkdir()
    db = directory / "inventory.db"
    url = f"sqlite:///{db}"
    assert cli.run(["db", "upgrade", "--database-url", url]).code == 0
    lock = directory / "inventory.db.run.lock"
    lock.touch()
    lock.chmod(0o666)  # the run lock is not what this test is about: anyone may take it
    before = sha256(db)
    db.chmod(0o444)
    directory.chmod(0o444 if layout.startswith("file and") else 0o555)
    # AWS is checked before the database: give the run an AWS to check.
    org = generate_organization(seed=3, accounts=2, regions=REGIONS)
    with Simulator(org) as sim, pytest.MonkeyPatch.context() as patch:
        for key, value in sim.env().items():
            patch.setenv(key, value)
        code, err = run_unprivileged(run_args(url, REGIONS))
    assert_one_line_error(code, err)
    directory.chmod(0o755)
    assert sha256(db) == before
    assert stat.S_IMODE(db.stat().st_mode) == 0o444


def test_read_only_sqlite_uri_exits_3(tmp_path: Path, cli: Cli) -> None:
    """A SQLite URL opened read-only (`?mode=ro&uri=true`) exits 3 naming the read-only database."""
    db = tmp_path / "inventory.db"
    plain = f"sqlite:///{db}"
    assert cli.run(["db", "upgrade", "--database-url", plain]).code == 0
    before = fetch(plain, "SELECT count(*) AS n FROM collection_runs")
    with Simulator(generate_organization(seed=3, accounts=2, regions=REGIONS)) as sim:
        result = cli.run(run_args(f"sqlite:///file:{db}?mode=ro&uri=true", REGIONS), sim.env())
    line = assert_one_line_error(result.code, result.err)
    assert "readonly" in line or "read-only" in line, line
    assert fetch(plain, "SELECT count(*) AS n FROM collection_runs") == before


# --- SQLite on a full disk -------------------------------------------------------------------

# Limits the size of every file the process writes, as a full disk would: SQLite's writes
# past the limit fail (EFBIG: Python ignores SIGXFSZ) and the transaction is rolled back.
_LIMITED = (
    "import resource, runpy, sys; "
    "hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]; "
    "resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv.pop(1)), hard)); "
    "sys.argv[0] = 'collector'; "
    "runpy.run_module('collector', run_name='__main__', alter_sys=True)"
)


@pytest.mark.slow
def test_full_disk_sqlite_exits_3_and_keeps_whole_scopes(tmp_path: Path, cli: Cli) -> None:
    """When SQLite cannot grow its files the run exits 3, and the file holds only whole scopes."""
    db = tmp_path / "inventory.db"
    url = f"sqlite:///{db}"
    assert cli.run(["db", "upgrade", "--database-url", url]).code == 0
    org = generate_organization(
        seed=41,
        accounts=6,
        empty_fraction=0.0,
        profiles_per_scope=(20, 50),
        regions=REGIONS,
        short_page_fraction=0.0,
    )
    # 50 ms per request, two scopes at a time: scopes finish one by one, so the writer's first
    # batch is one or two scopes even on a busy machine (a writer that fell behind would find
    # every scope done and write the whole run as its first batch, past the limit).
    with Simulator(org, Faults(latency=0.05)) as sim:
        env = {**os.environ, **sim.env()}
        # Room for the schema and about half the data, measured on a complete run: how many
        # scopes a batch holds depends on timing, so a fixed size could fit none or all.
        reference = tmp_path / "reference.db"
        assert cli.collect(f"sqlite:///{reference}", sim, REGIONS).code == 0
        empty = db.stat().st_size
        limit = str(empty + (reference.stat().st_size - empty) // 2)
        full = subprocess.run(
            [sys.executable, "-c", _LIMITED, limit, *run_args(url, REGIONS, "--concurrency", "2")],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        line = assert_one_line_error(full.returncode, full.stderr)
        assert "database" in line
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        run = assert_committed_scopes_intact(url, org)
        again = cli.collect(url, sim, REGIONS)
    assert again.code == 0, again.err
    assert_recovered(url, org, run["run_id"])


# --- PostgreSQL migrated by newer code -------------------------------------------------------


def test_newer_postgres_schema_is_refused(postgres_url: str, cli: Cli) -> None:
    """A PostgreSQL database migrated by a newer collector is refused with exit 3, not altered."""
    upgrade = ["db", "upgrade", "--database-url", postgres_url]
    assert cli.run(upgrade).code == 0

    postgres_execute(postgres_url, "UPDATE alembic_version SET version_num = '9999'")
    tables = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    before = sorted(r["table_name"] for r in fetch(postgres_url, tables))
    # AWS is checked before the database: give the run an AWS to check.
    with Simulator(generate_organization(seed=3, accounts=2, regions=REGIONS)) as sim:
        results = [cli.run(run_args(postgres_url, REGIONS), sim.env()), cli.run(upgrade)]
    for result in results:
        line = assert_one_line_error(result.code, result.err)
        assert "newer than this collector knows" in line
    assert fetch(postgres_url, "SELECT version_num FROM alembic_version") == [
        {"version_num": "9999"}
    ]
    assert sorted(r["table_name"] for r in fetch(postgres_url, tables)) == before
    assert fetch(postgres_url, "SELECT count(*) AS n FROM collection_runs") == [{"n": 0}]
