"""The database adapter: the only code that imports SQLAlchemy, alembic and the drivers.

It raises only `DatabaseError` (with the URL's password masked), `RefusedDataError` and
`ConfigError`; `errors.translated` is the one place where library exceptions are mapped.
What differs between SQLite and PostgreSQL is in `dialects/`, one module per database.
"""

from .engine import create_engine, open_engine
from .lock import RunLock, migration_lock, run_lock
from .migrate import head_revision, migrating, upgrade
from .patience import Patience
from .reader import (
    Reader,
    Row,
    Rows,
    change_columns,
    inventory_columns,
    open_reader,
    read_connection,
    record_columns,
    sqlite_runs_all_labelled,
    table_columns,
)
from .status import DatabaseStatus, database_status
from .writer import Store

__all__ = [
    "DatabaseStatus",
    "Patience",
    "Reader",
    "Row",
    "Rows",
    "RunLock",
    "Store",
    "change_columns",
    "create_engine",
    "database_status",
    "head_revision",
    "inventory_columns",
    "migrating",
    "migration_lock",
    "open_engine",
    "open_reader",
    "read_connection",
    "record_columns",
    "run_lock",
    "sqlite_runs_all_labelled",
    "table_columns",
    "upgrade",
]
