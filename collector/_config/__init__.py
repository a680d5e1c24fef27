"""Settings: the option table, where values come from, and every check on them.

Standard library only: settings are checked before anything connects anywhere.
"""

from .database_url import DatabaseUrl, parse_database_url, redact
from .options import OPTIONS, Option
from .redaction import redact_secrets
from .secrets import pushgateway_authorization
from .settings import Settings, check_account_id, check_schema
from .sources import load_settings

__all__ = [
    "OPTIONS",
    "DatabaseUrl",
    "Option",
    "Settings",
    "check_account_id",
    "check_schema",
    "load_settings",
    "parse_database_url",
    "pushgateway_authorization",
    "redact",
    "redact_secrets",
]
