"""The supply chain: every dependency bounded in pyproject, pinned with hashes in a lock, and
this environment installed from those locks and nothing else."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
PROJECT = "appflow-inventory"


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str | None
    hashes: tuple[str, ...]


def pins(lock: str) -> list[Pin]:
    """The requirements of a lock file, continuation lines joined, comments dropped."""
    text = (LOCKS / lock).read_text()
    found = []
    for entry in re.sub(r"\\\n\s*", " ", text).splitlines():
        entry = entry.split(" #", 1)[0].strip()
        if not entry or entry.startswith("#"):
            continue
        spec, *options = entry.split(" --")
        requirement = Requirement(spec)
        (pinned,) = requirement.specifier
        assert pinned.operator == "==", entry
        hashes = tuple(o.removeprefix("hash=").strip() for o in options if o.startswith("hash="))
        assert len(hashes) == len(options), f"{lock}: an option that is not a hash: {entry}"
        marker = str(requirement.marker) if requirement.marker else None
        found.append(Pin(canonicalize_name(requirement.name), pinned.version, marker, hashes))
    return found


def applicable(lock: str) -> dict[str, str]:
    """Name -> version of the pins that apply to this interpreter and platform."""
    return {
        pin.name: pin.version
        for pin in pins(lock)
        if pin.marker is None or Requirement(f"x; {pin.marker}").marker.evaluate()  # type: ignore[union-attr]
    }


def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


def runtime_requirements() -> list[Requirement]:
    dependencies = pyproject()["dependencies"]
    assert isinstance(dependencies, list)
    return [Requirement(text) for text in dependencies]


@pytest.mark.parametrize("lock", ["pip.txt", "build.txt", "runtime.txt", "test.txt"])
def test_every_lock_entry_is_an_exact_pin_with_sha256_hashes(lock: str) -> None:
    """Each lock file pins every entry with `==` and at least one sha256 hash, so pip's
    --require-hashes mode accepts it and refuses anything else."""
    found = pins(lock)
    assert found
    for pin in found:
        assert pin.hashes, f"{lock}: {pin.name} has no hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in pin.hashes), pin


def test_every_runtime_dependency_has_an_upper_bound() -> None:
    """Each runtime dependency in pyproject.toml is capped, so `pip install` of the project
    never picks up a future major (or, below 1.0, minor) release."""
    for requirement in runtime_requirements():
        operators = {spec.operator for spec in requirement.specifier}
        assert operators & {"<", "<=", "==", "~="}, f"{requirement} has no upper bound"


def test_the_runtime_lock_satisfies_pyproject_and_nothing_else_is_in_it() -> None:
    """runtime.txt pins each runtime dependency at a version pyproject.toml allows, and
    holds nothing the runtime dependencies do not need (no test tool ships in the image)."""
    locked = applicable("runtime.txt")
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements/runtime.txt"
        assert requirement.specifier.contains(locked[name]), (requirement, locked[name])
    for tool in ("pytest", "mypy", "ruff", "hypothesis", "pip-audit", "setuptools", "pip"):
        assert tool not in locked, f"{tool} must not be in the runtime lock"


def test_the_locks_agree_with_each_other() -> None:
    """A package pinned in two locks has the same version in both, so `make` can install
    runtime, build and test locks into one environment."""
    test = applicable("test.txt")
    for lock in ("pip.txt", "build.txt", "runtime.txt"):
        for name, version in applicable(lock).items():
            assert test.get(name) == version, (
                f"{name}: {lock} has {version}, test.txt {test.get(name)}"
            )


def test_this_environment_was_installed_from_the_locks() -> None:
    """Every distribution installed here, pip included, is pinned in the test lock at the
    version installed: `make` installs from the locks and from nowhere else."""
    locked = applicable("test.txt")
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    installed.pop(canonicalize_name(PROJECT))
    assert installed
    unpinned = {name: v for name, v in installed.items() if locked.get(name) != v}
    assert not unpinned, f"installed but not pinned at that version in test.txt: {unpinned}"


def test_make_and_the_image_install_only_with_hashes() -> None:
    """Every `pip install` of a lock in the Makefile and the Dockerfile uses --require-hashes,
    and the project itself goes in without dependencies."""
    for name in ("Makefile", "Dockerfile"):
        text = re.sub(r"\\\n\s*", " ", (ROOT / name).read_text())
        text = text.replace("$(PIP)", "pip install")
        commands = [c for line in text.splitlines() for c in line.split("&&")]
        installs = [c for c in commands if re.search(r"\bpip\b.*\binstall\b", c)]
        installs = [c for c in installs if not c.startswith("PIP :=")]
        assert len(installs) >= 4, name
        for line in installs:
            if "-r requirements/" in line:
                assert "--require-hashes" in line, f"{name}: {line.strip()}"
            else:
                assert "--no-deps" in line, f"{name}: {line.strip()}"
