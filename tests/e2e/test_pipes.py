"""A reader that closes stdout early (`collector show | head`) ends any command quietly:
exit 0, nothing on stderr, in every format; in this process and in a real pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.simulator import Simulator, generate_organization

from ..support import collector_command, fetch, run_args, run_main

REGIONS = ("us-east-1", "eu-west-1")
FORMATS = ("table", "tsv", "json", "jsonl", "csv")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An inventory with a few hundred profiles (more than a pipe holds), collected once."""
    database = f"sqlite:///{tmp_path_factory.mktemp('pipes') / 'inventory.db'}"
    org = generate_organization(
        seed=5, accounts=4, empty_fraction=0.0, profiles_per_scope=(20, 60), regions=REGIONS
    )
    with Simulator(org) as sim:
        assert run_main(run_args(database, REGIONS), sim.env()) == 0
    return database


def read_commands(url: str) -> Iterator[list[str]]:
    (arn,) = fetch(url, "SELECT connector_profile_arn FROM connector_profiles LIMIT 1")[0].values()
    base = ["--database-url", url]
    for fmt in FORMATS:
        for command in (
            ["show"],
            ["changes", "--since", "1d"],
            ["history", arn],
            ["export", "--include-deleted"],
            ["runs"],
            ["runs", "--run", "last"],
            ["query", "SELECT * FROM connector_profile_versions"],
        ):
            yield [*command, *base, "--format", fmt]


@pytest.fixture
def closed_stdout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """stdout a pipe whose reader has already gone."""
    read, write = os.pipe()
    os.close(read)
    stream = open(write, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    monkeypatch.setattr(sys, "stdout", stream)
    try:
        yield
    finally:
        monkeypatch.undo()
        try:
            stream.close()
        except BrokenPipeError:
            pytest.fail("stdout was left with output it could not write")


def test_every_read_command_ends_quietly_in_every_format(
    url: str, closed_stdout: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each read command, in each format, whose stdout has no reader exits 0 and says
    nothing: no traceback, no database message."""
    for args in read_commands(url):
        code = run_main(args, {})
        err = capsys.readouterr().err
        assert (code, err) == (0, ""), args


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["run", "--help"],
        ["completion", "bash"],
        ["db", "upgrade"],
    ],
)
def test_other_commands_end_quietly_too(
    args: list[str], url: str, closed_stdout: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Help, completion and `db upgrade` end the same way: exit 0, nothing on stderr."""
    extra = ["--database-url", url] if args[0] == "db" else []
    code = run_main([*args, *extra], {})
    assert (code, capsys.readouterr().err) == (0, "")


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_a_real_pipeline_whose_reader_closes_early(url: str, fmt: str, tmp_path: Path) -> None:
    """`collector show -o json | head -c 0` in real processes: the collector exits 0 and
    writes nothing on stderr."""
    process = subprocess.Popen(
        collector_command("show", "--database-url", url, "--format", fmt),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert (process.returncode, err) == (0, b"")
