"""The options commands share, as `--help` shows them: grouped, each with its variable and
default, and a command's examples after them."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from .._config import ENV_PREFIX, GROUPS, OPTIONS, Option, closest, option_default
from .._errors import ConfigError

DATABASE_OPTIONS = ("database_url", "database_url_file", "schema")
DESCRIPTION_WIDTH = 96


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, with the option or choice
    meant when a typo is close to one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message + self._suggestion(message))

    def _suggestion(self, message: str) -> str:
        if message.startswith("unrecognized arguments: "):
            given = message.removeprefix("unrecognized arguments: ").split()
            known = sorted(_option_strings(self))
            for word in given:
                match = closest(word.split("=", 1)[0], known, cutoff=0.6)
                if word.startswith("-") and match:
                    return f" (did you mean {match}?)"
        if "invalid choice: " in message:
            word = message.split("invalid choice: ", 1)[1].split("'")[1]
            choices = [
                str(c)
                for action in self._actions
                if action.choices is not None
                for c in action.choices
            ]
            match = closest(word, choices, cutoff=0.6)
            if match:
                return f" (did you mean {match}?)"
        return ""


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """The option strings of a parser and of all its subcommands (the top parser reports
    the arguments a subcommand did not know)."""
    found = {s for action in parser._actions for s in action.option_strings}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found |= _option_strings(child)
    return found


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written; options a little wider than argparse's."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=36, width=100)


def option_help(name: str) -> str:
    """An option's help, with its default and its environment variable."""
    option = OPTIONS[name]
    default = option_default(name)
    if option.kind == "bool":
        default = "off"
    shown = f"default {default}; " if default else ""
    return f"{option.help} [{shown}{Option.variable(name)}]".replace("%", "%%")


def add_config_option(parser: argparse.ArgumentParser | Any) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"TOML file with option values [{ENV_PREFIX}CONFIG]",
    )


def add_settings_options(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """A flag for each named option of the option table, in its `--help` group."""
    wanted = list(names)
    groups = {
        key: parser.add_argument_group(title)
        for key, title in GROUPS.items()
        if any(OPTIONS[name].group == key for name in wanted)
    }
    add_config_option(parser)
    for name in wanted:
        option = OPTIONS[name]
        group = groups[option.group]
        if option.kind == "bool":
            group.add_argument(
                Option.flag(name), action="store_true", default=None, help=option_help(name)
            )
        else:
            group.add_argument(
                Option.flag(name),
                metavar=option.metavar,
                help=option_help(name),
                action="append" if option.repeatable else "store",
            )


def add_database_options(parser: argparse.ArgumentParser) -> None:
    add_settings_options(parser, DATABASE_OPTIONS)


def add_verbosity(parser: argparse.ArgumentParser, *, after: bool) -> None:
    """`-v`/`--verbose` (twice for the libraries' debug too) and `--debug-aws`: before the
    command, and after it (`collector run -v`)."""
    suffix = "_after" if after else ""
    parser.add_argument(
        "-v",
        "--verbose",
        dest="verbose" + suffix,
        action="count",
        default=0,
        help="the collector's own events and debug lines, with their counts; "
        "-vv: the database libraries' debug lines too",
    )
    parser.add_argument(
        "--debug-aws",
        dest="debug_aws" + suffix,
        action="store_true",
        help="also log the AWS SDK's requests and responses (credentials masked)",
    )


def examples(*lines: str) -> str:
    """A command's examples, for the end of its `--help`."""
    return "examples:\n" + "".join(f"  {line}\n" for line in lines)


def add_command(
    commands: argparse._SubParsersAction[Any],
    name: str,
    summary: str,
    *,
    example: Sequence[str] = (),
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand with its one-line summary, its description, its examples and `-v`."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description or summary, DESCRIPTION_WIDTH),
        epilog=examples(*example) if example else None,
    )
    add_verbosity(parser, after=True)
    return parser
