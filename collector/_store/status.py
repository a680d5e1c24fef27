"""Whether a run could use a database, found without changing it (`collector check`).

Nothing is created: a SQLite file that does not exist is reported as such (a run creates
it), and an existing database is read over a read-only connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from .dialects import dialect_named
from .engine import create_engine
from .errors import display_url, translated
from .migrate import current_revision, head_revision, revision_known


@dataclass(frozen=True, slots=True)
class DatabaseStatus:
    """A database as a run would find it."""

    url: str
    """Its URL, password masked."""
    state: str
    """`missing` (a run creates it), `empty` (no schema yet: a run builds it), `behind`
    (a run migrates it), `current`, or `newer` (migrated by a newer collector: a run refuses
    it)."""
    revision: str | None
    head: str

    @property
    def usable(self) -> bool:
        return self.state != "newer"


async def database_status(database_url: str, schema: str | None = None) -> DatabaseStatus:
    """How a run would find the database; `DatabaseError` if it cannot be reached or used."""
    engine = create_engine(database_url, schema)
    head = head_revision()
    try:
        shown = display_url(engine)
        dialect = dialect_named(engine.dialect.name)
        if dialect.missing(engine):
            return DatabaseStatus(shown, "missing", None, head)
        with translated(engine):
            async with engine.connect() as conn:
                await dialect.make_read_only(conn)
                revision = await conn.run_sync(current_revision)
        return DatabaseStatus(shown, _state(revision, head), revision, head)
    finally:
        await engine.dispose()


def _state(revision: str | None, head: str) -> str:
    if revision is None:
        return "empty"
    if revision == head:
        return "current"
    return "behind" if revision_known(revision) else "newer"
