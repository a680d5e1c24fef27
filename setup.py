"""The wheel's packages, found rather than listed: every package under collector/, and
alembic's migrations/ installed as `collector.migrations` (the rest of the build is in
pyproject.toml; `tests/e2e/test_packaging.py` checks that the wheel holds every module)."""

from setuptools import find_packages, setup

MIGRATIONS = "collector.migrations"

setup(
    packages=[
        *find_packages(include=["collector", "collector.*"]),
        MIGRATIONS,
        *(f"{MIGRATIONS}.{name}" for name in find_packages("migrations")),
    ],
    package_dir={"collector": "collector", MIGRATIONS: "migrations"},
)
