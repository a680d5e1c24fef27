"""appflow-inventory: a SQL inventory of AWS AppFlow connector profiles, with history.

The command line (`collector run`, `collector db upgrade`, `collector demo`) is the main
interface; this module is the small API behind it, for embedding a run in other code.
"""

from __future__ import annotations

from ._core._database import upgrade
from ._core._errors import AwsError, CollectorError, ConfigError, DatabaseError, ErrorKind
from ._core._retry import RetryPolicy
from ._core._runner import RunResult, run_collection
from ._core._settings import Settings, load_settings

__all__ = [
    "AwsError",
    "CollectorError",
    "ConfigError",
    "DatabaseError",
    "ErrorKind",
    "RetryPolicy",
    "RunResult",
    "Settings",
    "load_settings",
    "run_collection",
    "upgrade",
]
