"""One run at a time per database (and per shard), and one migration at a time per database,
whatever the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from .._errors import DatabaseError
from .dialects import dialect_named
from .dialects.base import HeldLock
from .engine import schema_of
from .errors import translated

T = TypeVar("T")

MIGRATION_LOCK = "migrate"
"""The database-wide migration lock: distinct from every run and shard lock."""
MIGRATION_LOCK_TIMEOUT = 600.0
"""How long a process waits for another to finish migrating, in seconds."""


def lock_name(engine: AsyncEngine, name: str) -> str:
    """A lock's name within the engine's schema: inventories in two schemas of one database
    lock independently."""
    schema = schema_of(engine)
    return name if schema is None else f"{schema}/{name}"


def run_lock(engine: AsyncEngine, name: str) -> AbstractAsyncContextManager[RunLock]:
    """Hold the lock `name` for the duration of the block, or raise `DatabaseError` at once.

    Both kinds of lock die with their process, so a killed run never blocks the next one.
    """
    dialect = dialect_named(engine.dialect.name)
    return _run_lock(engine, dialect.run_lock(engine, lock_name(engine, name)))


class RunLock:
    """The run's lock, held."""

    def __init__(self, engine: AsyncEngine, held: HeldLock) -> None:
        self._engine = engine
        self._held = held

    async def ensure(self) -> None:
        """Take it back if the database being away released it; `DatabaseError` if another
        run took it meanwhile."""
        with translated(self._engine):
            await self._held.ensure()


@asynccontextmanager
async def _run_lock(
    engine: AsyncEngine, lock: AbstractAsyncContextManager[HeldLock]
) -> AsyncIterator[RunLock]:
    async with _held(engine, lock) as held:
        yield RunLock(engine, held)


def migration_lock(
    engine: AsyncEngine, timeout: float = MIGRATION_LOCK_TIMEOUT
) -> AbstractAsyncContextManager[None]:
    """Hold the database's migration lock for the block, waiting up to `timeout` seconds for
    another process to release it (then `DatabaseError`). It dies with its process too."""
    dialect = dialect_named(engine.dialect.name)
    return _held(engine, dialect.migration_lock(engine, lock_name(engine, MIGRATION_LOCK), timeout))


@asynccontextmanager
async def _held(engine: AsyncEngine, lock: AbstractAsyncContextManager[T]) -> AsyncIterator[T]:
    """`lock` for the block, its database errors translated."""
    with translated(engine):
        held = await lock.__aenter__()
    try:
        yield held
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
