"""What differs between the databases the inventory runs on, one module per database.

Everything dialect-specific lives here: the async driver and engine settings, the upsert
statement, text ordering, read-only connections, the run lock, and which driver errors mean
"the database refused these values". A third database is a third module and an entry in
`DIALECTS`.
"""

from __future__ import annotations

from .base import Dialect
from .postgresql import PostgreSQL
from .sqlite import SQLite

DIALECTS: dict[str, Dialect] = {"sqlite": SQLite(), "postgresql": PostgreSQL()}


def dialect_named(name: str) -> Dialect:
    """The dialect of an engine (`engine.dialect.name`) or a URL's backend."""
    return DIALECTS[name]


__all__ = ["DIALECTS", "Dialect", "dialect_named"]
