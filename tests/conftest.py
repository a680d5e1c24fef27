"""Fixtures: the databases tests write to (a SQLite file, a fresh PostgreSQL database), and the
session's seal from the caller's environment (`tests/sealed.py`).

Helpers live in `tests/support.py`; this file only turns some of them into fixtures and hooks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .scheduling import WholeFilesScheduling, files_with_module_fixtures
from .sealed import Seal, seal
from .support import MigratedTemplates, postgres_database

_SEAL = pytest.StashKey[Seal]()
_LEFTOVERS = pytest.StashKey[list[str]]()
_PASSED = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SEAL] = seal()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The process that sealed the session fails it if the tests left something behind."""
    sealed = session.config.stash[_SEAL]
    if not sealed.owner:
        return
    leftovers = sealed.leftovers()
    session.config.stash[_LEFTOVERS] = leftovers
    if leftovers:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    session.config.stash[_PASSED] = exitstatus == 0 and not leftovers


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The order's seed, even under `-q`, so that a failure can be replayed; then what the
    tests left behind, if anything."""
    config = terminalreporter.config
    seed = config.getoption("randomly_seed", None)
    if isinstance(seed, int) and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(
            f"test order shuffled with --randomly-seed={seed} (`-p no:randomly` for file order)"
        )
    for leftover in config.stash.get(_LEFTOVERS, []):
        terminalreporter.write_line(f"left behind by the tests: {leftover}", red=True)
    if _SEAL in config.stash and config.stash[_SEAL].owner and not config.stash.get(_PASSED, False):
        terminalreporter.write_line(f"the session's files are kept in {config.stash[_SEAL].root}")


def pytest_unconfigure(config: pytest.Config) -> None:
    """A passing session removes its sealed folder; a failing one keeps it to look into."""
    if _SEAL in config.stash and config.stash[_SEAL].owner and config.stash.get(_PASSED, False):
        config.stash[_SEAL].remove()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the PostgreSQL server `postgresql` (`-m "not postgresql"`
    runs the rest); move the tests marked `slow` to the front, in the shuffled order, so
    that workers start with the long ones."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and "postgresql" in (
            callspec.params.get("database_url"),
            callspec.params.get("inventory_url"),
        )
        if on_postgres or "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgresql)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup`: a test to whichever worker is free, but a file with a module-scoped
    fixture whole to one worker (`tests/scheduling.py`)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    tests = Path(__file__).parent
    return WholeFilesScheduling(config, log, files_with_module_fixtures(tests, config.rootpath))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test against a SQLite file and against PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inventory.db'}"
    else:
        yield from postgres_database()


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    try:
        yield templates
    finally:
        templates.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def inventory_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates
) -> Iterator[str]:
    """An inventory already migrated to the newest schema, on SQLite and on PostgreSQL, for
    the tests that are not about migrating (a copy of a template migrated once)."""
    if request.param == "sqlite":
        yield migrated_templates.sqlite(tmp_path / "inventory.db")
    else:
        yield from migrated_templates.postgres()


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_templates: MigratedTemplates) -> str:
    """A SQLite inventory already migrated to the newest schema, for the tests that need one
    database and are not about creating or migrating it."""
    return migrated_templates.sqlite(tmp_path / "inventory.db")


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    """A SQLite URL whose file does not exist yet: the collector creates and migrates it."""
    return f"sqlite:///{tmp_path / 'inventory.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database alone (skipped without a server, failed in CI)."""
    yield from postgres_database()
