"""The README and the docs/ pages say what the code does: their command lines parse, their
options, codes, tables and files are the real ones, and the README stays a front door."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from collector._cli.main import build_parser
from collector._cli.summary import run_finished
from collector._config import OPTIONS, Option
from collector._config.options import FILE_ONLY_KEYS, coerce
from collector._errors import ConfigError, ErrorKind
from collector._model.failures import FailureTally
from collector._model.run import ExitCode, RunResult
from collector._store.schema import metadata
from collector.simulator.__main__ import _parser as simulator_parser

from ..docs import ROOT, Command, all_blocks, commands, console_examples, page_text, pages, prose

README_LINES = 200


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[argparse._SubParsersAction[Any]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield action


def subcommands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command path of the real parser (`("db", "upgrade")`, ...) and its parser."""
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for action in _subparsers(parser):
        for name, child in action.choices.items():
            nested = subcommands(child, (*prefix, name))
            found |= nested or {(*prefix, name): child}
    return found


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """The option strings a parser and its subcommands declare."""
    found = {s for action in parser._actions for s in action.option_strings}
    for action in _subparsers(parser):
        for child in action.choices.values():
            found |= option_strings(child)
    return found


def parse(command: Command) -> None:
    """Parse a documented command line with the program's own parser, running nothing;
    `--help` and `--version` end parsing with status 0."""
    parser = build_parser() if command.program == "collector" else simulator_parser()
    status: object = 0
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            parser.parse_args(list(command.argv))
    except ConfigError as error:
        pytest.fail(f"{command.page}: `{command.line}` does not parse: {error}")
    except SystemExit as exit_:
        status = exit_.code
    assert status == 0, f"{command.page}: `{command.line}` does not parse"
    # argparse accepts a prefix of a long option; a page must give the option in full.
    known = option_strings(parser)
    for token in command.argv:
        if token.startswith("--"):
            assert token.split("=", 1)[0] in known, f"{command.page}: {token} in {command.line}"


def documented_commands() -> list[Command]:
    """The command lines the pages give, the bare program name (`collector`) aside."""
    return [c for c in commands() if c.argv]


def test_the_docs_show_command_lines() -> None:
    """The pages hold command lines of every program, in blocks and in running text."""
    found = documented_commands()
    assert len(found) >= 40
    assert {c.program for c in found} == {"collector", "simulator"}
    assert {c.page for c in found} >= {"README.md", "commands.md", "organization.md"}


@pytest.mark.parametrize("command", documented_commands(), ids=lambda c: f"{c.page}:{c.line}")
def test_every_command_line_parses_with_the_real_parser(command: Command) -> None:
    """Each `collector ...` line of the README and the pages parses with the collector's
    own argument parser: no unknown subcommand, option or choice, no missing argument."""
    parse(command)


def test_an_unknown_option_fails_the_check() -> None:
    """The check itself refuses a line with an option the collector does not have."""
    bad = Command("x.md", "collector", ("run", "--no-such-option"), "collector run ...")
    with pytest.raises(pytest.fail.Exception):
        parse(bad)
    abbreviated = Command(
        "x.md", "collector", ("run", "--max-att", "3"), "collector run --max-att 3"
    )
    with pytest.raises(AssertionError):
        parse(abbreviated)


def test_every_subcommand_has_an_example_in_the_command_reference() -> None:
    """The command reference shows each subcommand of the real parser at least once."""
    shown = {c.argv for c in documented_commands() if c.page == "commands.md"}
    for path in subcommands(build_parser()):
        assert any(argv[: len(path)] == path for argv in shown), " ".join(path)


def _table(page: str, heading: str) -> list[list[str]]:
    """The body rows of the first table after a heading, cells stripped."""
    text = page_text(page)
    lines = text[text.index(f"\n{heading}\n") :].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<![\\`])\|(?!`)", line.strip("|"))])
    assert len(rows) > 2, heading
    return rows[2:]


def test_the_options_table_is_the_option_table() -> None:
    """The configuration reference lists every option of the collector, each with its flag
    and TOML key, and no option that does not exist."""
    documented = {
        (row[0].strip("`").split()[0], row[1].strip("`"))
        for row in _table("configuration.md", "## Options")
    }
    assert documented == {(Option.flag(name), name) for name in OPTIONS}


def test_the_exit_codes_are_the_code_s() -> None:
    """The exit-code table lists exactly the codes of `ExitCode`."""
    documented = {int(row[0].strip("`")) for row in _table("configuration.md", "## Exit codes")}
    assert documented == {int(code) for code in ExitCode}


def test_the_error_codes_are_the_code_s() -> None:
    """The error-code table lists exactly the classifications of `ErrorKind`."""
    documented = {row[0].strip("`") for row in _table("configuration.md", "## Error codes")}
    assert documented == {str(kind) for kind in ErrorKind}


def test_every_table_and_column_is_described() -> None:
    """The SQL page has a section for each table of the schema naming each of its columns."""
    text = page_text("sql.md")
    for table in metadata.sorted_tables:
        heading = f"\n### `{table.name}`\n"
        assert heading in text, table.name
        body = text.split(heading, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
        for column in table.columns:
            assert f"`{column.name}`" in body, f"{table.name}.{column.name}"


def test_toml_examples_hold_only_real_keys_of_the_right_types() -> None:
    """Each TOML example parses, and each of its keys is an option (or the file-only
    `[account_regions]` table) with a value of the option's type."""
    blocks = all_blocks("toml")
    assert len(blocks) >= 3
    for block in blocks:
        document = tomllib.loads(block.text)
        for key, value in document.items():
            where = f"{block.page}: {key}"
            if key in FILE_ONLY_KEYS:
                assert isinstance(value, dict), where
                continue
            assert key in OPTIONS, where
            coerce(key, value, where)


def test_every_file_the_docs_name_exists() -> None:
    """Each file or folder of the repository the README or a page names (deploy/,
    requirements/, scripts/, the code, the tests, the docs; `_store/...` within the
    package; the top-level files) exists."""
    named: set[str] = set()
    for path in pages():
        text = path.read_text("utf-8")
        named |= set(
            re.findall(
                r"(?:(?<=://)|(?<![\w.$/-]))((?:deploy|requirements|scripts|collector|tests"
                r"|benchmarks|migrations|docs)/[\w./-]*[\w-])",
                text,
            )
        )
        named |= {
            "collector/" + m
            for m in re.findall(
                r"(?<![\w./-])(_(?:aws|cli|config|model|service|store)/[\w./-]*[\w-])", text
            )
        }
        named |= set(
            re.findall(
                r"(?<![\w./-])(Dockerfile|\.dockerignore|Makefile|pyproject\.toml|alembic\.ini"
                r"|mkdocs\.yml)\b",
                text,
            )
        )
    assert any(n.startswith("deploy/cloudformation/") for n in named)
    assert any(n.startswith("tests/e2e/") for n in named)
    assert {"Dockerfile", ".dockerignore", "mkdocs.yml"} <= named
    for name in sorted(named):
        assert (ROOT / name).exists(), name


def test_the_readme_is_a_front_door() -> None:
    """The README, also the package's description, stays short: what it is, the two
    commands, a quick start and links to every page of the docs."""
    readme = page_text("README.md")
    assert len(readme.splitlines()) <= README_LINES
    assert "make demo" in readme
    assert "make test" in readme
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)(?:#[\w-]+)?\)", readme))
    assert linked == {path.name for path in pages()[1:]}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["readme"] == "README.md"


def _slug(heading: str) -> str:
    """A heading's anchor, as mkdocs' `toc` extension makes it."""
    text = re.sub(r"[^\w\s-]", "", heading.replace("`", "")).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def test_links_into_the_pages_name_real_pages_and_anchors() -> None:
    """Every link of the README into docs/, and of a page to a page, names a page that exists
    and, after `#`, one of its headings (mkdocs checks the pages; this checks the README)."""
    anchors = {
        path.name: {_slug(h) for h in re.findall(r"^#+ (.*)$", prose(path.read_text()), re.M)}
        for path in pages()[1:]
    }
    links = [
        (path.name, target, anchor)
        for path in pages()
        for target, anchor in re.findall(
            r"\]\((?:docs/)?([\w-]+\.md)(?:#([\w-]+))?\)", prose(path.read_text())
        )
    ]
    assert any(page == "README.md" and anchor for page, _, anchor in links)
    for page, target, anchor in links:
        assert target in anchors, (page, target)
        assert not anchor or anchor in anchors[target], (page, f"{target}#{anchor}")


def test_every_command_is_shown_with_its_output() -> None:
    """The command reference shows each subcommand of the real parser run in a console
    block, with what it printed under it."""
    shown = {e.command.argv for e in console_examples("commands.md") if e.command and e.output}
    for path in subcommands(build_parser()):
        assert any(argv[: len(path)] == path for argv in shown), " ".join(path)


def test_the_documented_run_finished_event_has_the_event_s_fields() -> None:
    """The `run_finished` event the command reference shows has exactly the fields the
    collector writes, so scripts written from the page read real keys."""
    (documented,) = [
        json.loads(line)
        for example in console_examples("commands.md")
        for line in example.output
        if line.startswith("{") and '"run_finished"' in line
    ]
    real = run_finished(RunResult(run_id="r", started_at=datetime.now(UTC)), 0.0, FailureTally())
    assert set(documented) == set(real)
    (group,) = documented["failures"]
    assert set(group) == {"error_code", "cause", "scopes", "accounts", "regions", "fix", "examples"}
