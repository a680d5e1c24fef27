"""The suite sealed from whoever runs it: their home, AWS set-up, databases and temp folder.

A contributor of this tool usually holds administrator credentials for an organization: a
test that resolved one of their profiles, or a setting such as `endpoint_url` or
`credential_process` in their `~/.aws/config`, would be one mistake away from a real account.
So for the whole session (and every process a test starts, which inherits the environment):

- `HOME` is an empty folder of the session's own, and `TMPDIR` another (pytest's `tmp_path`
  folders included), both under one private folder removed when the suite passes;
- every `AWS_*`, `PG*`, `XDG_*` and proxy variable of the caller is removed, and so is every
  `COLLECTOR_*` one but the test harness's own (`COLLECTOR_TEST_*`, `COLLECTOR_SOAK_*`), and
  the terminal's size (`COLUMNS`, `LINES`: xdist's workers set them, and tables fit them);
- `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE` name empty files, and instance
  metadata is disabled. A test that needs a profile or a config file writes its own.

When the session ends, anything left in its temp folder but pytest's own `pytest-of-*` fails
the run, and so, in CI, does any change to the working tree's `git status`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT_VARIABLE = "COLLECTOR_TEST_SEALED_ROOT"
"""Names the sealed folder to the processes the session starts (xdist's workers among them)."""

_KEPT_PREFIXES = ("COLLECTOR_TEST_", "COLLECTOR_SOAK_")
_REMOVED_PREFIXES = ("AWS_", "PG", "XDG_", "COLLECTOR_")
_PROXIES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
_TERMINAL = {"COLUMNS", "LINES"}


def _removed(name: str) -> bool:
    if name.startswith(_KEPT_PREFIXES):
        return False
    return name.startswith(_REMOVED_PREFIXES) or name.lower() in _PROXIES or name in _TERMINAL


@dataclass
class Seal:
    """The sealed folder of a session and what the working tree looked like at its start."""

    root: Path
    owner: bool
    """Whether this process made the folder (and so checks and removes it at the end)."""
    tree: str | None = None
    removed: list[str] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def aws(self) -> Path:
        return self.root / "aws"

    def leftovers(self) -> list[str]:
        """What the session left in its temp folder, pytest's own folders aside, and (in CI,
        where nobody edits the checkout while the tests run) how the working tree changed."""
        found = sorted(p.name for p in self.tmp.iterdir() if not p.name.startswith("pytest-of-"))
        if os.environ.get("CI"):
            now = working_tree_status()
            if now != self.tree:
                found.append(f"the working tree changed: {self.tree!r} became {now!r}")
        return found

    def remove(self) -> None:
        # Tests chmod some of their folders read-only: give the owner its rights back first.
        for path in (self.root, *self.root.rglob("*")):
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o700)
        shutil.rmtree(self.root, ignore_errors=True)


def working_tree_status() -> str | None:
    """`git status` of the checkout the tests live in, or None outside a git checkout."""
    checkout = Path(__file__).resolve().parents[1]
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=checkout,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def seal() -> Seal:
    """Seal this process's environment (see the module's docstring); idempotent.

    The first process makes the folder; the processes it starts find it in the environment.
    """
    inherited = os.environ.get(ROOT_VARIABLE)
    if inherited:
        sealed = Seal(Path(inherited), owner=False)
    else:
        sealed = Seal(Path(tempfile.mkdtemp(prefix="collector-tests.")), owner=True)
        sealed.tree = working_tree_status()
        for folder in (sealed.home, sealed.tmp, sealed.aws):
            folder.mkdir(mode=0o700)
        # Others may pass through (not list) the folder and its temp folder, so that a server
        # a test starts as another user (PostgreSQL refuses root) reaches its own folder in it;
        # whatever is made inside is private by its own mode, pytest's folders included.
        for folder in (sealed.root, sealed.tmp):
            folder.chmod(0o711)
        for name in ("config", "credentials"):
            (sealed.aws / name).touch(mode=0o600)
    sealed.removed = sorted(name for name in os.environ if _removed(name))
    for name in sealed.removed:
        del os.environ[name]
    os.environ.update(
        {
            ROOT_VARIABLE: str(sealed.root),
            "HOME": str(sealed.home),
            "TMPDIR": str(sealed.tmp),
            "AWS_CONFIG_FILE": str(sealed.aws / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(sealed.aws / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    tempfile.tempdir = str(sealed.tmp)
    return sealed
