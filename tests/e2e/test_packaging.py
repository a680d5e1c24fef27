"""Migrations two ways: alembic run by hand from the repository root, and the installed
package migrating by itself with no checkout around it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from collector._store import head_revision

from ..support import fetch

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
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tables(url: str) -> set[str]:
    if url.startswith("sqlite"):
        rows = fetch(url, "SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r["name"] for r in rows}
    rows = fetch(
        url,
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'",
    )
    return {r["name"] for r in rows}


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


def test_alembic_takes_the_url_from_x_argument(sqlite_url: str) -> None:
    """`-x database_url=URL` names the database when no variable is set."""
    env = {k: v for k, v in os.environ.items() if k != "COLLECTOR_DATABASE_URL"}
    upgraded = subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"database_url={sqlite_url}", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert tables(sqlite_url) >= TABLES


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


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding the project as a built wheel, not as the checkout.

    Its dependencies come from this environment's site-packages (added by a .pth line, so
    the checkout's editable install is not); the collector itself is only the wheel's.
    """
    work = tmp_path_factory.mktemp("wheel")
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
            str(work / "dist"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (work / "dist").glob("appflow_inventory-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps"]
    subprocess.run([*pip, "--no-index", str(wheel)], check=True, timeout=300)
    site = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


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
