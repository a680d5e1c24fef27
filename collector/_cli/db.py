"""`collector db upgrade`: apply pending migrations, and nothing else."""

from __future__ import annotations

import argparse

import anyio

from .._config import load_settings, redact
from .._model.run import ExitCode
from .._service import upgrade_database
from .escape import escape_control
from .flags import given_flags


def run_db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings(
        given_flags(args, "database_url", "database_url_file", "schema"),
        allowed=frozenset({"database_url", "schema"}),
    )
    anyio.run(upgrade_database, settings.database_url, settings.schema)
    where = f" (schema {settings.schema})" if settings.schema else ""
    print(escape_control(f"database {redact(settings.database_url)}{where} is up to date"))
    return ExitCode.OK
