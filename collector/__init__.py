"""appflow-inventory: a SQL inventory of AWS AppFlow resources across an organization, with
history: connector profiles, and the flows and custom connectors linked to them.

The command line (`collector run`, `collector db upgrade`, `collector demo`) is the main
interface; this module is the small API behind it, for embedding a run in other code.
"""

from __future__ import annotations

from ._aws import RetryPolicy
from ._config import Settings, load_settings
from ._errors import AwsError, CollectorError, ConfigError, DatabaseError, ErrorKind
from ._model.run import ExitCode, RunResult, RunStatus
from ._service import run_collection
from ._store import upgrade

__all__ = [
    "AwsError",
    "CollectorError",
    "ConfigError",
    "DatabaseError",
    "ErrorKind",
    "ExitCode",
    "RetryPolicy",
    "RunResult",
    "RunStatus",
    "Settings",
    "load_settings",
    "run_collection",
    "upgrade",
]
