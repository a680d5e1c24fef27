"""Fixtures of the end-to-end tests: a simulator to collect from, and the CLI to run.

A module provides `org`; it overrides `faults` when its simulator needs seeded faults.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collector.simulator import Faults, Organization, Simulator

from ..support import Cli


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Runs `collector` in this process: `cli.run(args, env)`, `cli.collect(url, sim, ...)`."""
    return Cli(capsys)


@pytest.fixture
def faults() -> Faults:
    """The faults `sim` injects: none until a test sets some."""
    return Faults()


@pytest.fixture
def sim(org: Organization, faults: Faults) -> Iterator[Simulator]:
    """A running simulator serving the module's `org`."""
    with Simulator(org, faults=faults) as simulator:
        yield simulator
