"""How `make test` shares the tests among pytest-xdist's workers (`--dist loadgroup`).

Each test goes to whichever worker is free, so that no worker is left with a long file at
the end, except the files that define a module-scoped fixture (a built virtualenv, a stopped
server, a stored history): each of those runs whole on one worker, so that its fixture is
made once. The worker-side `xdist_group` marker cannot say so here: pytest 9.2 no longer
lets xdist 3.8 rename a test to carry its group, so the grouping is the scheduler's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling
from xdist.workermanage import Producer


def files_with_module_fixtures(tests: Path, root: Path) -> frozenset[str]:
    """The test files (paths as in node ids, relative to `root`) that define a fixture with
    `scope="module"`."""
    found = set()
    for path in tests.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef) and any(
                _module_scoped(decorator) for decorator in node.decorator_list
            ):
                found.add(path.relative_to(root).as_posix())
                break
    return frozenset(found)


def _module_scoped(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Call) and any(
        keyword.arg == "scope"
        and isinstance(keyword.value, ast.Constant)
        and keyword.value.value == "module"
        for keyword in decorator.keywords
    )


class WholeFilesScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's scheduling by scope, where a scope is a whole file for `whole` files and a
    single test otherwise. The larger scopes go out first (xdist orders them by size), then
    the single tests in collection order, which puts the tests marked `slow` first."""

    def __init__(self, config: pytest.Config, log: Producer, whole: frozenset[str]) -> None:
        super().__init__(config, log)
        self.whole = whole

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return path if path in self.whole else nodeid
