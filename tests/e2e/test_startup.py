"""What a run loads: alembic only when the database must be migrated.

Every nightly run finds its database at head, so reading the revision must not cost the
import of alembic and the parsing of every migration script."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from collector.simulator import Organization, Simulator, generate_organization

from ..support import ROOT, fetch, run_args

REGION = "us-east-1"

# `collector run ARGS` in a process of its own, then whether alembic was loaded.
PROBE = (
    "import sys; from collector._cli.main import main; code = main(sys.argv[1:]); "
    "print(code, 'alembic' in sys.modules)"
)


@pytest.fixture
def org() -> Organization:
    return generate_organization(seed=5, accounts=2, profiles_per_scope=(1, 3), regions=[REGION])


def run_and_report(url: str, sim: Simulator) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *run_args(url, REGION)],
        cwd=ROOT,
        env={**os.environ, **sim.env()},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr


def test_a_run_on_a_database_at_head_never_loads_alembic(sqlite_url: str, sim: Simulator) -> None:
    assert run_and_report(sqlite_url, sim) == "0 False"
    assert fetch(sqlite_url, "SELECT status FROM collection_runs") == [{"status": "succeeded"}]


def test_a_run_on_an_empty_database_migrates_it_with_alembic(
    empty_sqlite_url: str, sim: Simulator
) -> None:
    assert run_and_report(empty_sqlite_url, sim) == "0 True"
    assert fetch(empty_sqlite_url, "SELECT status FROM collection_runs") == [
        {"status": "succeeded"}
    ]
