"""What a run shows people and log pipelines: log lines, a live progress line, metrics."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from .._model.scopes import ScopeOutcome, ScopeStatus

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        document.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        document.setdefault("event", "log")
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(document, default=str)


def configure_logging(log_format: str, verbose: bool, stream: TextIO | None = None) -> None:
    """Text logs by default, JSON lines with `json`. Library chatter stays at WARNING."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("botocore", "aiobotocore", "alembic", "sqlalchemy", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    # botocore logs a failed credential refresh with its traceback; the collector reports
    # it itself, in one line (the scope's credentials_expired, or exit 2 at start).
    for chatty in (
        "botocore.credentials",
        "aiobotocore.credentials",
        "botocore.tokens",
        "aiobotocore.tokens",
    ):
        logging.getLogger(chatty).setLevel(logging.DEBUG if verbose else logging.CRITICAL)
    # Text logs carry failures only; JSON logs carry every scope for pipelines to count.
    scope_level = logging.INFO if (verbose or log_format == "json") else logging.WARNING
    logging.getLogger("collector.scope").setLevel(scope_level)


class Progress:
    """A live progress line on a terminal; silent when the stream is not a terminal."""

    def __init__(self, stream: TextIO | None = None, interval: float = 0.2) -> None:
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty()
        self._interval = interval
        self._last = 0.0
        self.total = 0
        self.done = 0
        self.profiles = 0
        self.retries = 0
        self.failed = 0

    def planned(self, scopes: int) -> None:
        self.total = scopes
        self._draw(force=True)

    def finished(self, outcome: ScopeOutcome) -> None:
        self.done += 1
        self.profiles += len(outcome.records)
        self.retries += outcome.retries
        self.failed += outcome.status is ScopeStatus.FAILED
        self._draw(force=self.done == self.total)

    def close(self) -> None:
        if self._enabled and self.total:
            self._stream.write("\n")
            self._stream.flush()

    def line(self) -> str:
        return (
            f"scopes {self.done}/{self.total}  profiles {self.profiles}  "
            f"retries {self.retries}  failed {self.failed}"
        )

    def _draw(self, force: bool = False) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if force or now - self._last >= self._interval:
            self._last = now
            self._stream.write("\r\x1b[K" + self.line())
            self._stream.flush()
