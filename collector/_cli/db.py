"""`collector db upgrade`: apply pending migrations, and nothing else."""

from __future__ import annotations

import argparse
from typing import Any

import anyio

from .._config import load_settings, redact
from .._model.run import ExitCode
from .._service import upgrade_database
from .escape import escape_control
from .flags import given_flags
from .options import Parser, add_command, add_database_options


def add_db_command(commands: argparse._SubParsersAction[Any]) -> None:
    db = add_command(commands, "db", "database maintenance: db upgrade")
    db_commands = db.add_subparsers(
        dest="db_command", required=True, parser_class=Parser, metavar="COMMAND"
    )
    upgrade = add_command(
        db_commands,
        "upgrade",
        "apply pending migrations, and nothing else",
        example=(
            "collector db upgrade --database-url-file /etc/appflow-inventory/database-url",
            "collector db upgrade --database-url sqlite:///collector.db",
        ),
    )
    add_database_options(upgrade)


def run_db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings(
        given_flags(args, "database_url", "database_url_file", "schema"),
        allowed=frozenset({"database_url", "schema"}),
    )
    anyio.run(upgrade_database, settings.database_url, settings.schema)
    where = f" (schema {settings.schema})" if settings.schema else ""
    print(escape_control(f"database {redact(settings.database_url)}{where} is up to date"))
    return ExitCode.OK
