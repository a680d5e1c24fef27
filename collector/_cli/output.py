"""What a run shows people and log pipelines: log lines, a live progress line, metrics."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from .._config import redact_secrets
from .._model.failures import FailureTally
from .._model.scopes import ScopeOutcome, ScopeStatus
from .escape import escape_control

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}
# The AWS SDK and its HTTP stack: at DEBUG they log signed requests and whole responses
# (AssumeRole's among them), so they stay at WARNING unless `--debug-aws` asks for them.
AWS_LOGGERS = ("botocore", "aiobotocore", "urllib3", "aiohttp")
# Other libraries' chatter, shown with -vv.
LIBRARY_LOGGERS = ("alembic", "sqlalchemy", "asyncio", "aiosqlite", "asyncpg")
# The collector's own events: every scope, and the run's plan and end. Shown in JSON logs
# (pipelines count them) and with -v; text logs otherwise show failures only.
EVENT_LOGGERS = ("collector.scope", "collector.run")


class RedactingFilter(logging.Filter):
    """Masks credentials, tokens and passwords in a record before any handler writes it.

    The message is rendered and masked, and so are the exception text and `extra` fields:
    whatever the formatter, nothing it reads still holds a secret.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep the format alone
            message = f"{record.msg} (unformattable log arguments)"
        record.msg, record.args = redact_secrets(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_secrets(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, _redacted(value))
        return True


def _redacted(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return redact_secrets(str(value))


class TextFormatter(logging.Formatter):
    """`time LEVEL message`, one line per record whatever the message holds.

    Control characters are written as escapes, so text from AWS can neither drive the
    terminal nor start a line that looks like a log line of its own; an exception's
    traceback follows on indented lines. With `fields`, a record's extra fields (an event's
    counts: pages, attempts, records per resource) follow the message as `name=value`.
    """

    def __init__(self, *, fields: bool = False) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")
        self._fields = fields

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if self._fields:
            extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
            message += "".join(
                f" {key}={value}" for key, value in extra.items() if value is not None
            )
        record.message = escape_control(message)
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        details = [record.exc_text or "", self.formatStack(record.stack_info or "")]
        for block in details:
            line += "".join("\n    " + escape_control(text) for text in block.splitlines())
        return line


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
        text = record.exc_text
        if record.exc_info and not text:
            text = self.formatException(record.exc_info)
        if text:
            document["exception"] = text.splitlines()[-1]
        return json.dumps(document, default=str)


def configure_logging(
    log_format: str, verbose: int, stream: TextIO | None = None, *, debug_aws: bool = False
) -> None:
    """Text logs by default, JSON lines with `json`, every record through `RedactingFilter`.

    Library chatter stays at WARNING. `verbose` 1 (`-v`) shows the collector's own events and
    debug lines, with their counts; 2 (`-vv`) the database libraries' debug lines too;
    `debug_aws` the AWS SDK's (requests and responses, still masked). JSON logs carry every
    scope's event whatever the verbosity, and Python's warnings as JSON lines too.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter())
    json_logs = log_format == "json"
    handler.setFormatter(JsonFormatter() if json_logs else TextFormatter(fields=verbose >= 1))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
    logging.getLogger("collector").setLevel(logging.DEBUG if verbose >= 1 else logging.INFO)
    for noisy in LIBRARY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    for aws in AWS_LOGGERS:
        logging.getLogger(aws).setLevel(logging.DEBUG if debug_aws else logging.WARNING)
    # botocore logs a failed credential refresh with its traceback; the collector reports
    # it itself, in one line (the scope's credentials_expired, or exit 2 at start).
    for chatty in (
        "botocore.credentials",
        "aiobotocore.credentials",
        "botocore.tokens",
        "aiobotocore.tokens",
    ):
        logging.getLogger(chatty).setLevel(logging.DEBUG if debug_aws else logging.CRITICAL)
    # Text logs carry failures only; JSON logs carry every scope for pipelines to count.
    event_level = logging.INFO if (verbose >= 1 or json_logs) else logging.WARNING
    for events in EVENT_LOGGERS:
        logging.getLogger(events).setLevel(event_level)
    # A warning Python itself prints (a deprecation, say) must not be the one line of
    # stderr that is not JSON.
    logging.captureWarnings(json_logs)


class Progress:
    """A live progress line on a terminal; silent when the stream is not a terminal (or
    when `enabled` is false: JSON logs have no room for a line that is not JSON)."""

    def __init__(
        self, stream: TextIO | None = None, interval: float = 0.2, *, enabled: bool = True
    ) -> None:
        self._stream = stream or sys.stderr
        self._enabled = enabled and self._stream.isatty()
        self._interval = interval
        self._last = 0.0
        self.total = 0
        self.done = 0
        self.records: dict[str, int] = {}
        """Records listed so far, by resource name."""
        self.retries = 0
        self.failed = 0

    def planned(self, scopes: int) -> None:
        self.total = scopes
        self._draw(force=True)

    def finished(self, outcome: ScopeOutcome) -> None:
        self.done += 1
        for resource, listing in outcome.listings.items():
            self.records[resource.name] = self.records.get(resource.name, 0) + len(listing.records)
        self.retries += outcome.retries
        self.failed += outcome.status is ScopeStatus.FAILED
        self._draw(force=self.done == self.total)

    def close(self) -> None:
        if self._enabled and self.total:
            self._stream.write("\n")
            self._stream.flush()

    def line(self) -> str:
        records = "".join(f"  {name} {count}" for name, count in self.records.items())
        return (
            f"scopes {self.done}/{self.total}{records}  "
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


run_log = logging.getLogger("collector.run")


class RunWatch:
    """What the CLI watches of a run (a `RunObserver`): the progress line, the failures
    grouped by cause for the summary, and the `run_planned` event."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tally = FailureTally()

    def planned(self, scopes: int) -> None:
        run_log.info("planned %d scopes", scopes, extra={"event": "run_planned", "scopes": scopes})
        self.progress.planned(scopes)

    def finished(self, outcome: ScopeOutcome) -> None:
        self.tally.add(outcome)
        self.progress.finished(outcome)
