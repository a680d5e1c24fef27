"""`collector completion bash|zsh|fish`: a completion script, made from the parser itself,
so every command, option and choice it completes is one the collector has."""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .._model.regions import APPFLOW_REGIONS
from .._model.resources import RESOURCES
from .._model.run import CHANGE_TYPES, ExitCode, RunStatus
from .options import add_command

SHELLS = ("bash", "zsh", "fish")
# Values of options that take them from a list the parser does not hold as `choices`.
KNOWN_VALUES: dict[str, tuple[str, ...]] = {
    "--log-format": ("text", "json"),
    "--resources": tuple(r.name for r in RESOURCES),
    "--resource": tuple(r.name for r in RESOURCES),
    "--regions": ("all", *APPFLOW_REGIONS),
    "--region": APPFLOW_REGIONS,
    "--change-type": CHANGE_TYPES,
    "--status": tuple(str(s) for s in RunStatus),
}
FILE_METAVARS = frozenset({"FILE", "PATH"})
DESCRIBED = 90


def add_completion_command(commands: argparse._SubParsersAction[Any]) -> None:
    parser = add_command(
        commands,
        "completion",
        "print a shell completion script: bash, zsh or fish",
        example=(
            "collector completion bash > ~/.local/share/bash-completion/completions/collector",
            'collector completion zsh > "${fpath[1]}/_collector"',
            "collector completion fish > ~/.config/fish/completions/collector.fish",
        ),
    )
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete in")


def run_completion(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    print(SCRIPTS[args.shell](parser), end="")
    return ExitCode.OK


# --- what the parser holds ---------------------------------------------------------------------


@dataclass(frozen=True)
class Opt:
    """One option of a command: its spellings, whether it takes a value, and which."""

    strings: tuple[str, ...]
    help: str
    takes_value: bool
    values: tuple[str, ...] = ()
    files: bool = False


@dataclass(frozen=True)
class Cmd:
    path: tuple[str, ...]
    help: str
    options: tuple[Opt, ...]
    children: tuple[tuple[str, str], ...]
    """(name, one-line help) of its subcommands."""
    choices: tuple[str, ...] = ()
    """The values its positional argument takes, when it has a list of them."""


def commands(parser: argparse.ArgumentParser) -> list[Cmd]:
    """The top level and every command path, each with its options and subcommands."""
    found: list[Cmd] = []

    def walk(p: argparse.ArgumentParser, path: tuple[str, ...], summary: str) -> None:
        children: list[tuple[str, str]] = []
        nested: list[tuple[argparse.ArgumentParser, tuple[str, ...], str]] = []
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help or "" for a in action._choices_actions}
                for name, child in action.choices.items():
                    children.append((name, helps.get(name, "")))
                    nested.append((child, (*path, name), helps.get(name, "")))
        choices = tuple(
            str(choice)
            for action in p._actions
            if not action.option_strings
            and action.choices is not None
            and not isinstance(action, argparse._SubParsersAction)
            for choice in action.choices
        )
        found.append(Cmd(path, summary, tuple(_options(p)), tuple(children), choices))
        for child, child_path, child_help in nested:
            walk(child, child_path, child_help)

    walk(parser, (), parser.description or "")
    return found


def _options(parser: argparse.ArgumentParser) -> Iterator[Opt]:
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        takes = action.nargs != 0
        values: tuple[str, ...] = ()
        if action.choices is not None:
            values = tuple(str(c) for c in action.choices)
        else:
            values = next((KNOWN_VALUES[s] for s in action.option_strings if s in KNOWN_VALUES), ())
        yield Opt(
            tuple(action.option_strings),
            _plain(action.help or ""),
            takes,
            values,
            files=takes and str(action.metavar) in FILE_METAVARS,
        )


def _plain(text: str) -> str:
    """Help text fit for any shell's description: one line of at most `DESCRIBED`
    characters (cut at a word), without quoting characters (an apostrophe is typographic)."""
    text = re.sub(r"\[[^]]*\]", "", text.replace("%%", "%")).replace("'", "\u2019")
    text = re.sub(r"[\s`\"\\$:\[\]]+", " ", text).strip()
    if len(text) <= DESCRIBED:
        return text
    return text[:DESCRIBED].rsplit(" ", 1)[0].rstrip(",;") + "…"


# --- bash --------------------------------------------------------------------------------------


def bash(parser: argparse.ArgumentParser) -> str:
    cmds = commands(parser)
    steps = sorted({f'"{" ".join(c.path[:-1])}:{c.path[-1]}"' for c in cmds if c.path})
    paths, values = [], []
    for c in cmds:
        key = " ".join(c.path)
        words = [*(name for name, _ in c.children), *c.choices]
        flags = [s for o in c.options for s in o.strings]
        paths.append(
            f'        "{key}") words={shlex.quote(" ".join(words))} '
            f"flags={shlex.quote(' '.join(flags))} ;;"
        )
        for o in c.options:
            for s in o.strings:
                if o.values:
                    reply = f'$(compgen -W {shlex.quote(" ".join(o.values))} -- "$cur")'
                elif o.files:
                    reply = '$(compgen -f -- "$cur")'
                elif o.takes_value:
                    reply = ""
                else:
                    continue
                values.append(f'        "{key}:{s}") COMPREPLY=({reply}); return ;;')
    return f"""# bash completion for collector: eval "$(collector completion bash)"
_collector_complete() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    local path="" word words flags i
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        case "$path:$word" in
            {"|".join(steps)}) path="${{path:+$path }}$word" ;;
        esac
    done
    case "$path:$prev" in
{chr(10).join(values)}
    esac
    case "$path" in
{chr(10).join(paths)}
    esac
    # Options when the word starts with a dash; commands and values otherwise.
    case "$cur" in
        -*) COMPREPLY=($(compgen -W "$flags" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "$words" -- "$cur")) ;;
    esac
}}
complete -o default -F _collector_complete collector
"""


# --- zsh ---------------------------------------------------------------------------------------


def zsh(parser: argparse.ArgumentParser) -> str:
    cmds = commands(parser)
    functions = []
    for c in cmds:
        name = "_collector" + "".join(f"_{p.replace('-', '_')}" for p in c.path)
        specs = [_zsh_spec(o) for o in c.options]
        if c.children:
            described = " ".join(
                shlex.quote(f"{child}:{_plain(help)}") for child, help in c.children
            )
            cases = "\n".join(
                f"                {child}) {name}_{child.replace('-', '_')} ;;"
                for child, _ in c.children
            )
            spec_lines = "".join(f"        {spec} \\\n" for spec in specs)
            body = f"""    local curcontext="$curcontext" state line
    local -a subcommands
    _arguments -C \\
{spec_lines}        '1: :->command' \\
        '*:: :->args'
    case $state in
        command)
            subcommands=({described})
            _describe -t commands 'collector command' subcommands ;;
        args)
            case $line[1] in
{cases}
            esac ;;
    esac"""
        else:
            positional = "'*: :'"
            if c.choices:
                positional = f"'1:value:({' '.join(c.choices)})'"
            body = "    _arguments \\\n" + "".join(f"        {spec} \\\n" for spec in specs)
            body += f"        {positional}"
        functions.append(f"{name}() {{\n{body}\n}}\n")
    return (
        "#compdef collector\n# zsh completion for collector\n\n"
        + "\n".join(functions)
        + '\n_collector "$@"\n'
    )


def _zsh_spec(option: Opt) -> str:
    strings = option.strings
    help_text = option.help.replace("'", "")
    if option.values:
        action = f":value:({' '.join(option.values)})"
    elif option.files:
        action = ":file:_files"
    elif option.takes_value:
        action = ":value:"
    else:
        action = ""
    if len(strings) == 1:
        return f"'{strings[0]}[{help_text}]{action}'"
    exclusive = " ".join(strings)
    return f"'({exclusive})'{{{','.join(strings)}}}'[{help_text}]{action}'"


# --- fish --------------------------------------------------------------------------------------


def fish(parser: argparse.ArgumentParser) -> str:
    lines = ["# fish completion for collector", "complete -c collector -f"]
    for c in commands(parser):
        condition = _fish_condition(c.path)
        for child, help_text in c.children:
            lines.append(
                f"complete -c collector -n {shlex.quote(condition)} -a {child} "
                f"-d {shlex.quote(_plain(help_text))}"
            )
        if c.choices:
            lines.append(
                f"complete -c collector -n {shlex.quote(condition)} "
                f"-a {shlex.quote(' '.join(c.choices))}"
            )
        for o in c.options:
            flags = " ".join(
                f"-l {s[2:]}" if s.startswith("--") else f"-s {s[1:]}" for s in o.strings
            )
            value = ""
            if o.values:
                value = f" -x -a {shlex.quote(' '.join(o.values))}"
            elif o.files:
                value = " -r -F"
            elif o.takes_value:
                value = " -x"
            lines.append(
                f"complete -c collector -n {shlex.quote(condition)} {flags}{value} "
                f"-d {shlex.quote(o.help)}"
            )
    return "\n".join(lines) + "\n"


def _fish_condition(path: tuple[str, ...]) -> str:
    if not path:
        return "__fish_use_subcommand"
    seen = " and ".join(f"__fish_seen_subcommand_from {p}" for p in path)
    return seen.replace(" and ", "; and ")


SCRIPTS: dict[str, Callable[[argparse.ArgumentParser], str]] = {
    "bash": bash,
    "zsh": zsh,
    "fish": fish,
}
