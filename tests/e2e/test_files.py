"""Files the collector writes: exports, the locks, the SQLite database, the metrics file, the
demo's file.

Each is made so that a file planted in its directory (a symbolic link at a name it uses)
redirects nothing, and so that what it creates is readable by its owner alone.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.simulator import Organization, Simulator, generate_organization

from ..support import ROLE, Cli, CliResult, fetch

REGIONS = ("us-east-1",)
VICTIM_TEXT = "an operator's file\n"


@pytest.fixture
def org() -> Organization:
    return generate_organization(
        seed=5, accounts=2, empty_fraction=0.0, profiles_per_scope=(1, 3), regions=REGIONS
    )


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The usual umask, 022, under which files are created world-readable by default."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "elsewhere" / "important.txt"
    victim.parent.mkdir()
    victim.write_text(VICTIM_TEXT)
    return victim


def _collected(tmp_path: Path, sim: Simulator, cli: Cli) -> str:
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    result = cli.collect(url, sim, REGIONS)
    assert result.code == 0, result.err
    return url


def test_export_ignores_a_link_planted_at_the_old_temporary_name(
    tmp_path: Path, sim: Simulator, cli: Cli
) -> None:
    """`export --output` writes through a temporary file of its own: a symbolic link at the
    predictable name it once used (`.NAME.PID.tmp`) is neither followed nor overwritten."""
    url = _collected(tmp_path, sim, cli)
    victim = _victim(tmp_path)
    target = tmp_path / "out" / "profiles.csv"
    target.parent.mkdir()
    planted = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    planted.symlink_to(victim)
    result = cli.run(["export", "--database-url", url, "--format", "csv", "--output", str(target)])
    assert result.code == 0, result.err
    assert victim.read_text() == VICTIM_TEXT
    assert target.read_text().startswith("connector_profile_arn,")
    assert sorted(p.name for p in target.parent.iterdir()) == sorted([target.name, planted.name])


def test_export_is_created_0600_and_keeps_an_existing_mode(
    tmp_path: Path, sim: Simulator, cli: Cli
) -> None:
    """A new export is readable by its owner alone; replacing one keeps the mode it had."""
    url = _collected(tmp_path, sim, cli)
    new = tmp_path / "new.jsonl"
    assert cli.run(["export", "--database-url", url, "--output", str(new)]).code == 0
    assert _mode(new) == 0o600
    shared = tmp_path / "shared.jsonl"
    shared.write_text("old\n")
    shared.chmod(0o640)
    assert cli.run(["export", "--database-url", url, "--output", str(shared)]).code == 0
    assert _mode(shared) == 0o640
    assert shared.read_text() != "old\n"


def test_lock_file_link_is_refused(tmp_path: Path, sim: Simulator, cli: Cli) -> None:
    """A symbolic link planted at the run lock's name is refused (exit 3, one line), and the
    file it points to is not truncated."""
    victim = _victim(tmp_path)
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    (tmp_path / "inventory.db.run.lock").symlink_to(victim)
    result = cli.collect(url, sim, REGIONS)
    assert result.code == 3
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert "is a symbolic link" in result.err
    assert victim.read_text() == VICTIM_TEXT


def test_lock_file_hard_link_is_refused(tmp_path: Path, sim: Simulator, cli: Cli) -> None:
    """A hard link planted at the run lock's name is refused too: it would be truncated."""
    victim = _victim(tmp_path)
    os.link(victim, tmp_path / "inventory.db.run.lock")
    result = cli.collect(f"sqlite:///{tmp_path / 'inventory.db'}", sim, REGIONS)
    assert result.code == 3
    assert "not a plain file of its own" in result.err
    assert victim.read_text() == VICTIM_TEXT


def test_database_and_lock_are_created_0600(tmp_path: Path, sim: Simulator, cli: Cli) -> None:
    """Under umask 022 a run creates the SQLite database and its lock file mode 0600."""
    _collected(tmp_path, sim, cli)
    assert _mode(tmp_path / "inventory.db") == 0o600
    assert _mode(tmp_path / "inventory.db.run.lock") == 0o600


def test_existing_database_keeps_its_mode(tmp_path: Path, sim: Simulator, cli: Cli) -> None:
    """A database the operator made group-readable stays so after a run."""
    database = tmp_path / "inventory.db"
    sqlite3.connect(database).close()
    database.chmod(0o640)
    _collected(tmp_path, sim, cli)
    assert _mode(database) == 0o640


def _demo(cli: Cli, database: Path) -> CliResult:
    """`collector demo` into `database`, in this process: what is under test is which file
    the demo replaces, not its process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with pytest.MonkeyPatch.context() as patch:
        for name in set(os.environ) - set(env):
            patch.delenv(name)
        return cli.run(["demo", "--accounts", "2", "--database-url", f"sqlite:///{database}"])


@pytest.mark.slow
def test_demo_replaces_only_its_own_database(tmp_path: Path, sim: Simulator, cli: Cli) -> None:
    """The demo starts afresh over a database it made (every run labelled `demo`), and
    refuses (exit 2, one line) to remove any other file: not SQLite, or a real inventory."""
    demo = tmp_path / "demo.db"
    first = _demo(cli, demo)
    assert first.code == 0, first.err
    assert {
        r["run_label"] for r in fetch(f"sqlite:///{demo}", "SELECT run_label FROM collection_runs")
    } == {"demo"}
    again = _demo(cli, demo)
    assert again.code == 0, again.err
    assert len(fetch(f"sqlite:///{demo}", "SELECT run_id FROM collection_runs")) == 2

    notes = tmp_path / "notes.txt"
    notes.write_text(VICTIM_TEXT)
    refused = _demo(cli, notes)
    assert refused.code == 2
    assert len(refused.err.strip().splitlines()) == 1, refused.err
    assert "not a database made by `collector demo`" in refused.err
    assert notes.read_text() == VICTIM_TEXT

    url = _collected(tmp_path, sim, cli)
    inventory = tmp_path / "inventory.db"
    before = inventory.read_bytes()
    refused = _demo(cli, inventory)
    assert refused.code == 2
    assert inventory.read_bytes() == before
    assert len(fetch(url, "SELECT run_id FROM collection_runs")) == 1


# Every name the collector creates a file at, beside a SQLite database `inventory.db` in
# `tmp_path`: (the name, the command that creates it, its exit code with a link there).
LINKED_NAMES = {
    "database": ("inventory.db", ["run"], 3),
    "run lock": ("inventory.db.run.lock", ["run"], 3),
    "migration lock": ("inventory.db.migrate.lock", ["db", "upgrade"], 3),
    "SQLite's write-ahead log": ("inventory.db-wal", ["run"], 3),
    "SQLite's shared memory": ("inventory.db-shm", ["run"], 3),
    "metrics file": ("metrics.prom", ["run", "--metrics-file", "{dir}/metrics.prom"], 0),
    "export": ("out.csv", ["export", "--format", "csv", "--output", "{dir}/out.csv"], 2),
}


def _command(args: list[str], tmp_path: Path) -> list[str]:
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    given = [arg.format(dir=tmp_path) for arg in args]
    if given[0] == "run":
        return [*given[:1], "--database-url", url, *given[1:]]
    if given[0] == "db":
        return [*given, "--database-url", url]
    return [*given[:1], "--database-url", url, *given[1:]]


@pytest.mark.parametrize("dangling", [False, True], ids=["to a file", "dangling"])
@pytest.mark.parametrize("what", sorted(LINKED_NAMES))
def test_a_link_at_any_name_the_collector_writes_is_never_followed(
    what: str, dangling: bool, tmp_path: Path, sim: Simulator, cli: Cli
) -> None:
    """A symbolic link planted at the name of any file the collector creates (the database,
    SQLite's -wal and -shm, the run and migration locks, the metrics file, an export) is
    never written through: the file it points to keeps its content and mode, and a
    dangling link's target is not created."""
    name, args, code = LINKED_NAMES[what]
    if what == "export":
        _collected(tmp_path, sim, cli)
    victim = _victim(tmp_path)
    victim.chmod(0o640)
    target = tmp_path / "elsewhere" / "created-through-a-link" if dangling else victim
    (tmp_path / name).symlink_to(target)
    command = _command(args, tmp_path)
    if command[0] == "run":
        command += ["--organization", "--role-name", ROLE, "--regions", ",".join(REGIONS)]
    result = cli.run(command, sim.env())
    assert result.code == code, result.err
    assert "Traceback" not in result.err
    assert victim.read_text() == VICTIM_TEXT
    assert _mode(victim) == 0o640
    assert not (tmp_path / "elsewhere" / "created-through-a-link").exists()
    assert (tmp_path / name).is_symlink()
    if code == 3:
        assert len(result.err.strip().splitlines()) == 1, result.err
    if what in ("database", "run lock", "migration lock", "export", "metrics file"):
        assert str(tmp_path / name) in result.err, result.err
        assert "is a symbolic link; remove it" in result.err, result.err


def test_metrics_file_ignores_prometheus_clients_temporary_name(
    tmp_path: Path, sim: Simulator, cli: Cli
) -> None:
    """The metrics file is written through a temporary file of the collector's own: a link
    at the name prometheus_client's `write_to_textfile` used (`PATH.PID.THREAD`) is neither
    followed nor replaced, and the file is mode 0644 (node_exporter reads it) whatever the
    umask."""
    victim = _victim(tmp_path)
    metrics = tmp_path / "metrics.prom"
    planted = tmp_path / f"metrics.prom.{os.getpid()}.{threading.get_ident()}"
    planted.symlink_to(victim)
    os.umask(0o077)
    result = cli.collect(
        f"sqlite:///{tmp_path / 'inventory.db'}", sim, REGIONS, "--metrics-file", str(metrics)
    )
    assert result.code == 0, result.err
    assert victim.read_text() == VICTIM_TEXT
    assert planted.is_symlink()
    assert "appflow_inventory_run_status" in metrics.read_text()
    assert _mode(metrics) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_new_files_get_their_modes_whatever_the_umask(
    tmp_path: Path, sim: Simulator, cli: Cli
) -> None:
    """Under a umask of 0 the database, its lock files and an export are still created
    mode 0600: modes are set explicitly, not left to the umask."""
    os.umask(0)
    url = _collected(tmp_path, sim, cli)
    export = tmp_path / "profiles.jsonl"
    assert cli.run(["export", "--database-url", url, "--output", str(export)]).code == 0
    for name in ("inventory.db", "inventory.db.run.lock", "inventory.db.migrate.lock"):
        assert _mode(tmp_path / name) == 0o600, name
    assert _mode(export) == 0o600
