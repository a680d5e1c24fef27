"""The command line as people discover it: `--help`, verbosity anywhere, suggestions for
typos, and completion scripts made from the parser."""

from __future__ import annotations

import argparse
import contextlib
import io
import re

import pytest

from collector._cli.completion import SCRIPTS, SHELLS, commands
from collector._cli.main import build_parser
from collector._config import GROUPS, OPTIONS, Option
from collector._errors import ConfigError
from collector._model.wire import changed_values


def help_of(*path: str) -> str:
    parser = build_parser()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        parser.parse_args([*path, "--help"])
    return out.getvalue()


def test_run_help_names_every_variable_and_default_in_groups() -> None:
    """`run --help` shows each option with its COLLECTOR_* variable, its default when it has
    one, under the titles of the groups (scope, AWS, database, output, operation), then
    examples."""
    text = help_of("run")
    flat = " ".join(text.split())
    for name in OPTIONS:
        assert Option.variable(name) in flat, name
    assert "[default 100; COLLECTOR_CONCURRENCY]" in flat
    assert "[default sqlite:///collector.db; COLLECTOR_DATABASE_URL]" in flat
    assert "[default off; COLLECTOR_ORGANIZATION]" in flat
    titles = [f"\n{title}:\n" for title in GROUPS.values()]
    positions = [text.index(title) for title in titles]
    assert positions == sorted(positions)
    assert text.index("\nexamples:\n") > positions[-1]
    assert "collector run --organization --role-name AppFlowInventoryReader --dry-run" in text


@pytest.mark.parametrize(
    "path",
    [
        ("run",),
        ("check",),
        ("show",),
        ("changes",),
        ("history",),
        ("export",),
        ("runs",),
        ("query",),
        ("demo",),
        ("completion",),
        ("db", "upgrade"),
    ],
)
def test_every_command_s_help_has_examples_and_every_option_a_help(path: tuple[str, ...]) -> None:
    """Each command's `--help` ends with examples, and none of its options is bare."""
    text = help_of(*path)
    assert "\nexamples:\n  collector " in text
    parser = build_parser()
    for name in path:
        parser = next(
            a.choices[name] for a in parser._actions if isinstance(a, argparse._SubParsersAction)
        )
    for action in parser._actions:
        assert action.help, (path, action.option_strings or action.dest)


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "show"],
        ["show", "-v"],
        ["show", "--verbose"],
        ["-v", "show", "-v"],
        ["--debug-aws", "run"],
        ["run", "--debug-aws"],
    ],
)
def test_verbosity_goes_before_or_after_the_command(argv: list[str]) -> None:
    """`-v` and `--debug-aws` are accepted before the command and after it; `-v` counts."""
    args = build_parser().parse_args(argv)
    verbose = args.verbose + args.verbose_after
    assert verbose == argv.count("-v") + argv.count("--verbose")
    assert (args.debug_aws or args.debug_aws_after) == ("--debug-aws" in argv)


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["run", "--acount", "123456789012"], "--account"),
        (["show", "--regoins", "eu-west-1"], "--regions"),
        (["run", "--role-nmae", "x"], "--role-name"),
        (["shwo"], "show"),
        (["show", "--format", "jsn"], "json"),
    ],
)
def test_a_typo_names_the_option_or_choice_meant(argv: list[str], meant: str) -> None:
    """An unknown option or choice one typo away from a real one is named in the error."""
    with pytest.raises(ConfigError) as info:
        build_parser().parse_args(argv)
    assert str(info.value).endswith(f"(did you mean {meant}?)") or (
        meant == "--account" and "(did you mean --accounts?)" in str(info.value)
    )


def test_an_unknown_option_like_none_suggests_nothing() -> None:
    """An option like no real one is refused without a guess."""
    with pytest.raises(ConfigError) as info:
        build_parser().parse_args(["show", "--zzzzzz"])
    assert "did you mean" not in str(info.value)


def test_completion_scripts_hold_every_command_and_option() -> None:
    """Each shell's script names every command and every option string of the parser."""
    parser = build_parser()
    found = commands(parser)
    names = {path[-1] for c in found for path in [c.path] if path}
    strings = {s for c in found for o in c.options for s in o.strings if s.startswith("--")}
    assert {"run", "check", "show", "changes", "history", "export", "runs", "query"} <= names
    assert {"--database-url", "--dry-run", "--summary-file", "--columns", "--wide"} <= strings
    for shell in SHELLS:
        script = SCRIPTS[shell](parser)
        for name in names:
            assert re.search(rf"\b{re.escape(name)}\b", script), (shell, name)
        for option in strings:
            spelled = option if shell != "fish" else f"-l {option[2:]}"
            assert spelled in script, (shell, option)


def test_the_zsh_and_fish_scripts_offer_choices() -> None:
    """The value lists the parser knows are in the scripts: formats, shells, log formats."""
    parser = build_parser()
    zsh, fish = SCRIPTS["zsh"](parser), SCRIPTS["fish"](parser)
    assert zsh.startswith("#compdef collector\n")
    assert ":value:(table tsv json jsonl csv)" in zsh
    assert ":value:(text json)" in zsh
    assert "-x -a 'table tsv json jsonl csv'" in fish
    assert "-a 'bash zsh fish'" in fish


def test_changed_values_pair_old_and_new() -> None:
    """Each changed path comes with its value before and after (None where it was absent)."""
    old = {"a": 1, "b": {"c": "x", "d": [1]}, "gone": True}
    new = {"a": 1, "b": {"c": "y", "d": [1, 2]}, "added": None}
    assert changed_values(old, new) == [
        ("added", None, None),
        ("b.c", "x", "y"),
        ("b.d", [1], [1, 2]),
        ("gone", True, None),
    ]
