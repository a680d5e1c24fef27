"""alembic environment: async engines, batch mode on SQLite, the schema's naming convention.

`collector db upgrade` passes an open connection in `config.attributes["connection"]`.
Run by hand, alembic takes the database URL from `-x url=...` or `COLLECTOR_DATABASE_URL`.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from collector._core._database import create_engine
from collector._core._schema import metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_configure)
    finally:
        await engine.dispose()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "COLLECTOR_DATABASE_URL", "sqlite:///collector.db"
    )
    asyncio.run(_run_with_own_engine(url))


main()
