"""`collector query SQL`: a statement of the user's own, in every output format.

The database refuses writes (a read-only transaction on PostgreSQL; `query_only` and an
authorizer that allows reading alone on SQLite), whatever the statement says; a statement
it refuses or cannot parse exits 2 with its one-line reason.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import aclosing
from typing import Any

from .._model.run import ExitCode
from .._service import Reader
from .options import add_command
from .reading import (
    add_read_command_options,
    chosen_columns,
    output_of,
    print_rows,
    read,
    read_settings,
)


def add_sql_command(commands: argparse._SubParsersAction[Any]) -> None:
    query = add_command(
        commands,
        "query",
        "run one read-only SQL statement, in the read commands' formats",
        example=(
            'collector query "SELECT connector_type, count(*) AS profiles FROM connector_profiles '
            'WHERE deleted_at IS NULL GROUP BY connector_type"',
            "collector query - -o csv < report.sql",
        ),
        description=(
            "Run one SQL statement on the inventory and print its rows. The database refuses "
            "writes: the connection is read-only, whatever the statement says."
        ),
    )
    query.add_argument("sql", metavar="SQL", help="the statement, or - to read it from stdin")
    add_read_command_options(query)


def run_sql(args: argparse.Namespace) -> int:
    settings = read_settings(args)
    output = output_of(args)
    sql = sys.stdin.read() if args.sql == "-" else args.sql

    async def work(inventory: Reader) -> int:
        rows = await inventory.query(sql)
        async with aclosing(rows):
            columns = chosen_columns(output, rows.columns, rows.columns)
            await print_rows(rows, output, columns, spare=())
        return ExitCode.OK

    return read(settings, work)
