"""alembic environment: async engines, batch mode on SQLite, the schema's naming convention.

`collector db upgrade` passes an open connection in `config.attributes["connection"]`, and
holds the migration lock itself. Run by hand (`alembic upgrade head` from the repository
root), alembic takes the database URL from `-x database_url=...` or `COLLECTOR_DATABASE_URL`
and the PostgreSQL schema from `-x schema=...` or `COLLECTOR_SCHEMA`, and migrates under
the same database-wide lock as the collector.
"""

from __future__ import annotations

import asyncio
import os
import sys

from alembic import context
from sqlalchemy.engine import Connection

from collector._errors import CollectorError
from collector._store.engine import open_engine
from collector._store.errors import translated
from collector._store.migrate import migrating
from collector._store.schema import metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str, schema: str | None) -> None:
    async with open_engine(url, schema) as engine, migrating(engine):
        with translated(engine):
            async with engine.begin() as connection:
                await connection.run_sync(_configure)


def _url() -> str:
    given = context.get_x_argument(as_dictionary=True)
    url = given.get("database_url") or given.get("url") or os.environ.get("COLLECTOR_DATABASE_URL")
    if not url:
        sys.exit("alembic: give -x database_url=URL or set COLLECTOR_DATABASE_URL")
    return url


def _schema() -> str | None:
    given = context.get_x_argument(as_dictionary=True)
    return given.get("schema") or os.environ.get("COLLECTOR_SCHEMA") or None


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    try:
        asyncio.run(_run_with_own_engine(_url(), _schema()))
    except CollectorError as error:
        sys.exit(f"alembic: {error}")


main()
