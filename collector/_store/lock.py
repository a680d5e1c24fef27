"""One run at a time per database (and per shard), whatever the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from .._errors import DatabaseError
from .dialects import dialect_named
from .errors import translated


@asynccontextmanager
async def run_lock(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    """Hold the lock `name` for the duration of the block, or raise `DatabaseError` at once.

    Both kinds of lock die with their process, so a killed run never blocks the next one.
    """
    lock = dialect_named(engine.dialect.name).run_lock(engine, name)
    with translated(engine):
        await lock.__aenter__()
    try:
        yield
    except BaseException as exc:
        try:
            with translated(engine):
                suppressed = await lock.__aexit__(type(exc), exc, exc.__traceback__)
        except DatabaseError:
            raise exc from None  # releasing failed too; the first error is the one to report
        if not suppressed:
            raise
    else:
        with translated(engine):
            await lock.__aexit__(None, None, None)
