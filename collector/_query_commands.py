"""Read-side commands: `changes`, `history`, `show`, `export`."""

from __future__ import annotations

import argparse
from typing import Any

QUERY_COMMANDS: frozenset[str] = frozenset()


def add_query_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the read-side subcommands on the `collector` parser."""


def run_query_command(args: argparse.Namespace) -> int:
    """Run one read-side subcommand; return its exit code."""
    raise NotImplementedError(args.command)
