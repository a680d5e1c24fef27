"""Which exit code an error ends a command with (docs/configuration.md, "Exit codes")."""

from __future__ import annotations

from .._errors import CollectorError, ConfigError
from .._model.run import ExitCode


def exit_code_of(error: BaseException) -> ExitCode:
    """2 for bad input, 3 for what kept the command from running, 4 for an interruption."""
    if isinstance(error, ConfigError):
        return ExitCode.USAGE
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(error, CollectorError):
        return ExitCode.CANNOT_RUN
    return ExitCode.CANNOT_RUN
