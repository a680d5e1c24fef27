"""Settings: the option table, where values come from, and every check on them.

Standard library only: settings are checked before anything connects anywhere.
"""

from .database_url import DatabaseUrl, parse_database_url, redact
from .durations import DURATION_FORMS, parse_duration
from .options import ENV_PREFIX, GROUPS, OPTIONS, Option
from .redaction import redact_secrets
from .secrets import pushgateway_authorization
from .settings import Settings, check_account_id, check_schema, option_default
from .sources import load_settings
from .suggest import closest, did_you_mean

__all__ = [
    "DURATION_FORMS",
    "ENV_PREFIX",
    "GROUPS",
    "OPTIONS",
    "DatabaseUrl",
    "Option",
    "Settings",
    "check_account_id",
    "check_schema",
    "closest",
    "did_you_mean",
    "load_settings",
    "option_default",
    "parse_database_url",
    "parse_duration",
    "pushgateway_authorization",
    "redact",
    "redact_secrets",
]
