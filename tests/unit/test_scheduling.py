"""Which test files run whole on one worker (`tests/scheduling.py`)."""

from __future__ import annotations

from pathlib import Path

from ..scheduling import files_with_module_fixtures
from ..support import ROOT


def test_only_files_defining_a_module_fixture_are_kept_whole(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_module.py").write_text(
        'import pytest\n\n@pytest.fixture(scope="module")\ndef built():\n    return 1\n'
    )
    (tests / "test_function.py").write_text(
        "import pytest\n\n"
        "@pytest.fixture\n"
        "def each():\n    return 1\n\n"
        '@pytest.fixture(scope="session")\n'
        "def once():\n    return 1\n"
    )
    (tests / "helpers.py").write_text(
        'import pytest\n\n@pytest.fixture(scope="module")\ndef x():\n    return 1\n'
    )
    assert files_with_module_fixtures(tests, tmp_path) == {"tests/test_module.py"}


def test_the_suites_costly_module_fixtures_are_each_made_on_one_worker() -> None:
    whole = files_with_module_fixtures(ROOT / "tests", ROOT)
    # The built virtualenv, the benchmark's run, the stopped server's cluster.
    assert {
        "tests/e2e/test_packaging.py",
        "tests/e2e/test_benchmark.py",
        "tests/e2e/test_database_faults.py",
    } <= whole
    assert "tests/e2e/test_run.py" not in whole
