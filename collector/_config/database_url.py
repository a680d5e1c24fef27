"""Database URLs as users write them, checked and redacted without a database library.

The grammar is SQLAlchemy's (`dialect+driver://user:password@host:port/database?query`), so
what passes here is what the store's engine accepts; the store picks the async driver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from .._errors import ConfigError

# SQLAlchemy's own URL pattern (sqlalchemy.engine.url._parse_url), so both agree on the parts.
_URL = re.compile(
    r"""
    (?P<name>[\w+]+)://
    (?:
        (?P<username>[^:/]*)
        (?::(?P<password>[^@]*))?
    @)?
    (?:
        (?:
            \[(?P<ipv6host>[^/?]+)\] |
            (?P<ipv4host>[^/:?]+)
        )?
        (?::(?P<port>[^/?]*))?
    )?
    (?:/(?P<database>[^?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.X,
)

BACKENDS = ("sqlite", "postgresql")
_ACCEPTED_DRIVERS = {
    "sqlite": {None, "aiosqlite", "pysqlite"},
    "postgresql": {None, "asyncpg", "psycopg2", "psycopg"},
}


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A checked database URL: its backend, and the SQLite file if it is one."""

    text: str
    backend: str
    database: str | None
    query: tuple[tuple[str, str], ...] = ()

    @property
    def redacted(self) -> str:
        return redact(self.text)

    @property
    def sqlite_file(self) -> str | None:
        """The SQLite database file (None for PostgreSQL and in-memory databases)."""
        if self.backend != "sqlite" or not self.database or self.database == ":memory:":
            return None
        if dict(self.query).get("uri", "").lower() in ("true", "1"):
            return self.database.removeprefix("file:").split("?", 1)[0] or None
        return self.database


def parse_database_url(text: str) -> DatabaseUrl:
    """Check a user's database URL; `ConfigError` naming the problem, never the password."""
    match = _URL.fullmatch(text.strip())
    port = match["port"] if match else None
    if match is None or (port and not port.isdigit()):
        raise ConfigError(f"database URL {redact(text)!r} is not a valid URL")
    dialect, _, driver = match["name"].partition("+")
    backend = "postgresql" if dialect == "postgres" else dialect
    if backend not in BACKENDS:
        raise ConfigError(
            f"database URL uses {backend!r}; supported are sqlite:/// and postgresql://"
        )
    if (driver or None) not in _ACCEPTED_DRIVERS[backend]:
        raise ConfigError(f"database driver {driver!r} is not supported for {backend}")
    database = unquote(match["database"]) if match["database"] else None
    if backend == "sqlite" and not database:
        raise ConfigError("sqlite URL needs a file: sqlite:///path/to/inventory.db")
    query = tuple(parse_qsl(match["query"] or "", keep_blank_values=True))
    return DatabaseUrl(text.strip(), backend, database, query)


def redact(text: str) -> str:
    """The URL with any password replaced by `***`, for messages and logs."""
    match = _URL.fullmatch(text.strip())
    if match is None:
        return "<unparseable URL>"
    if match["password"] is None:
        return text.strip()
    start, end = match.span("password")
    return text.strip()[:start] + "***" + text.strip()[end:]
