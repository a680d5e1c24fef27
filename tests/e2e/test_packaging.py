"""The package as users get it: alembic run by hand from the repository root, and the wheel
installed with only the pinned runtime lock (as the image installs it) running by itself,
with no checkout around it: `--version`, `db upgrade` and the demo."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from collector._store import head_revision

from ..support import fetch, run_module

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "accounts",
    "collection_runs",
    "collection_scopes",
    "connector_profile_properties",
    "connector_profile_versions",
    "connector_profiles",
}


def alembic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`alembic ARGS` as an operator types it, in the repository root."""
    return run_module("alembic", *args, env=env)


def tables(url: str) -> set[str]:
    if url.startswith("sqlite"):
        rows = fetch(url, "SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r["name"] for r in rows}
    rows = fetch(
        url,
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'",
    )
    return {r["name"] for r in rows}


@pytest.mark.slow
def test_alembic_upgrade_from_the_repository_root(database_url: str) -> None:
    """`alembic upgrade head`, `current` and `history` work from the root with the URL in
    COLLECTOR_DATABASE_URL, and build the collector's tables."""
    env = {"COLLECTOR_DATABASE_URL": database_url}
    upgraded = alembic("upgrade", "head", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert tables(database_url) >= TABLES
    current = alembic("current", env=env)
    assert current.returncode == 0, current.stderr
    assert f"{head_revision()} (head)" in current.stdout
    history = alembic("history")
    assert history.returncode == 0, history.stderr
    assert "0001" in history.stdout
    assert head_revision() in history.stdout


def test_alembic_takes_the_url_from_x_argument(empty_sqlite_url: str) -> None:
    """`-x database_url=URL` names the database when no variable is set."""
    env = {k: v for k, v in os.environ.items() if k != "COLLECTOR_DATABASE_URL"}
    upgraded = subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-x",
            f"database_url={empty_sqlite_url}",
            "upgrade",
            "head",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert tables(empty_sqlite_url) >= TABLES


def test_alembic_without_a_url_says_how_to_give_one() -> None:
    """With no URL at all, alembic stops with one line naming both ways to give it."""
    env = {k: v for k, v in os.environ.items() if k != "COLLECTOR_DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "-x database_url=URL" in result.stderr
    assert "COLLECTOR_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


# The runtime lock's wheels, downloaded by `make` beside the virtualenv running the tests.
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
# What the image's build copies of the checkout (see the Dockerfile).
BUILD_CONTEXT = ("pyproject.toml", "setup.py", "README.md", "collector", "migrations")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built as the image builds it: from a copy of the files the image
    copies, so that the build writes nothing into the checkout."""
    source, dist = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for name in BUILD_CONTEXT:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (found,) = dist.glob("appflow_inventory-*.whl")
    return found


def test_the_wheel_holds_every_module(wheel: Path) -> None:
    """Every module and package of collector/, and every migration as
    `collector.migrations`, is in the wheel, with the migration template: a new subpackage
    cannot be left out."""
    sources = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "collector").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    sources |= {
        str(Path("collector") / path.relative_to(ROOT))
        for path in (ROOT / "migrations").rglob("*")
        if path.is_file() and path.suffix in (".py", ".mako") and "__pycache__" not in path.parts
    }
    assert "collector/migrations/script.py.mako" in sources
    assert any(name.startswith("collector/migrations/versions/0001") for name in sources)
    with zipfile.ZipFile(wheel) as archive:
        packaged = {name for name in archive.namelist() if name.startswith("collector/")}
    assert sources - packaged == set()
    assert {name for name in packaged if name.endswith(".py")} <= sources


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv built as the image builds its own: the project's wheel, and only
    the pinned runtime lock (requirements/runtime.txt, hashes required) for its dependencies.

    The virtualenv has no pip of its own, like the image's; this environment's pinned pip
    installs into it, from the wheels `make` downloaded beside this environment (no index:
    the suite needs no network). Nothing of the checkout or of this environment is visible
    from it.
    """
    assert (WHEELHOUSE / ".done").exists(), f"no {WHEELHOUSE}: run `make .venv/.test-deps`"
    venv = tmp_path_factory.mktemp("wheel") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
    for step in (
        [
            *("--no-index", "--find-links", str(WHEELHOUSE), "--require-hashes"),
            *("-r", str(ROOT / "requirements" / "runtime.txt")),
        ],
        ["--no-index", "--no-deps", str(wheel)],
    ):
        done = subprocess.run(
            [*pip, "-q", *step], capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, done.stderr
    return venv


def installed_run(
    venv: Path, cwd: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`collector ARGS` of the installed copy, in `cwd`, with no database URL in the
    environment and no path into the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTOR_", "PYTHON"))}
    return subprocess.run(
        [str(venv / "bin" / "collector"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
def test_installed_environment_holds_only_the_runtime_lock(installed: Path) -> None:
    """The installed copy's environment is the wheel plus exactly the runtime lock's
    packages: no test tool, no pip, and `pip check` finds every dependency satisfied."""
    listed = subprocess.run(
        [
            str(installed / "bin" / "python"),
            "-c",
            "from importlib import metadata\n"
            "for d in metadata.distributions(): print(d.metadata['Name'], d.version)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {line.split()[0].lower().replace("_", "-") for line in listed.splitlines()}
    lock = (ROOT / "requirements" / "runtime.txt").read_text()
    locked = {m.lower() for m in re.findall(r"^([A-Za-z0-9_.-]+)==", lock, re.MULTILINE)}
    assert "appflow-inventory" in names
    assert names - {"appflow-inventory"} <= locked
    assert {"aiobotocore", "sqlalchemy", "asyncpg", "prometheus-client"} <= names
    assert not names & {"pip", "pytest", "setuptools", "mypy"}
    check = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(installed / "bin" / "python"), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_installed_collector_reports_its_version(installed: Path, tmp_path: Path) -> None:
    """`collector --version` of the installed copy prints the version in pyproject.toml."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = installed_run(installed, tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"collector {version}"


def test_installed_collector_runs_the_demo(installed: Path, tmp_path: Path) -> None:
    """`collector demo` of the installed copy, far from the checkout, migrates a new SQLite
    file with the packaged migrations and collects the simulated organization twice."""
    result = installed_run(installed, tmp_path, "demo", "--accounts", "4", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "First pass:" in result.stdout
    assert "Second pass:" in result.stdout
    assert "Profiles per account:" in result.stdout
    database = tmp_path / "appflow-demo.db"
    assert tables(f"sqlite:///{database}") >= TABLES


def test_installed_package_migrates_by_itself(
    installed: Path, tmp_path: Path, database_url: str
) -> None:
    """The wheel carries its migrations: `collector db upgrade` from an installed copy, far
    from any checkout, builds the schema on either database."""
    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import collector; print(collector.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(installed) in where
    assert str(ROOT) not in where
    env = {k: v for k, v in os.environ.items() if k != "COLLECTOR_DATABASE_URL"}
    upgraded = subprocess.run(
        [str(installed / "bin" / "collector"), "db", "upgrade", "--database-url", database_url],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert "is up to date" in upgraded.stdout
    assert tables(database_url) >= TABLES
