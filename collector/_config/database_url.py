"""Database URLs as users write them, checked and redacted without a database library.

The grammar is SQLAlchemy's (`dialect+driver://user:password@host:port/database?query`), so
what passes here is what the store's engine accepts; the store picks the async driver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from .._errors import ConfigError
from .redaction import redact_secrets
from .suggest import closest

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

# libpq's TLS parameters, accepted in a PostgreSQL URL's query (`?sslmode=verify-full&...`).
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
SSL_FILES = ("sslrootcert", "sslcert", "sslkey")
TLS_PARAMETERS = ("sslmode", *SSL_FILES)

BACKENDS = ("sqlite", "postgresql")
_SCHEMES = {"sqlite": "sqlite:///", "postgresql": "postgresql://", "postgres": "postgresql://"}
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
    has_password: bool = False

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
    if match is not None and "@" in (match["ipv4host"] or ""):
        # The password held an `@`: the rest of it would be taken for the host name, sent
        # to DNS and printed in errors. Say so without showing any of it.
        raise ConfigError(
            "database URL has an '@' after the password separator (an unencoded '@' in the "
            "password?): percent-encode it as %40"
        )
    if match is None or (port and not port.isdigit()):
        raise ConfigError(f"database URL {redact(text)!r} is not a valid URL")
    dialect, _, driver = match["name"].partition("+")
    backend = "postgresql" if dialect == "postgres" else dialect
    if backend not in BACKENDS:
        near = closest(backend.lower(), (*BACKENDS, "postgres"), cutoff=0.6)
        hint = f" (did you mean {_SCHEMES[near]}?)" if near else ""
        raise ConfigError(
            f"database URL uses {backend!r}; supported are sqlite:/// and postgresql://{hint}"
        )
    if (driver or None) not in _ACCEPTED_DRIVERS[backend]:
        raise ConfigError(f"database driver {driver!r} is not supported for {backend}")
    database = unquote(match["database"]) if match["database"] else None
    if backend == "sqlite" and not database:
        raise ConfigError("sqlite URL needs a file: sqlite:///path/to/inventory.db")
    query = tuple(parse_qsl(match["query"] or "", keep_blank_values=True))
    if backend == "postgresql":
        _check_tls(dict(query))
    has_password = bool(match["password"]) or any(key == "password" for key, _ in query)
    return DatabaseUrl(text.strip(), backend, database, query, has_password)


def _check_tls(query: dict[str, str]) -> None:
    """libpq's `sslmode`, `sslrootcert`, `sslcert` and `sslkey`, as the store maps them."""
    mode = query.get("sslmode")
    if mode is not None and mode not in SSL_MODES:
        raise ConfigError(f"database URL: sslmode must be one of {', '.join(SSL_MODES)}")
    files = [name for name in SSL_FILES if name in query]
    for name in files:
        if not query[name]:
            raise ConfigError(f"database URL: {name} is empty")
    if files and mode not in ("require", "verify-ca", "verify-full"):
        raise ConfigError(
            f"database URL: {', '.join(files)} needs sslmode=require, verify-ca or "
            "verify-full (verify-full checks the server's name too)"
        )


def redact(text: str) -> str:
    """The URL with any password replaced by `***`, for messages and logs.

    Also a `password=` query parameter, and an unencoded `@` in the password with what
    follows it up to the host.
    """
    stripped = text.strip()
    match = _URL.fullmatch(stripped)
    if match is None:
        return "<unparseable URL>"
    if match["password"] is not None:
        start, end = match.span("password")
        host = match["ipv4host"] or ""
        if "@" in host:
            end = match.start("ipv4host") + host.rindex("@")
        stripped = stripped[:start] + "***" + stripped[end:]
    return redact_secrets(stripped)
