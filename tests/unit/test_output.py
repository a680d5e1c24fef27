"""The progress line and JSON log lines, against in-memory streams."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

from collector._cli.output import JsonFormatter, Progress
from collector._model.scopes import Scope, ScopeOutcome, ScopeStatus


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _outcome(status: ScopeStatus, retries: int = 0) -> ScopeOutcome:
    at = datetime(2026, 11, 27, tzinfo=UTC)
    return ScopeOutcome(Scope("123456789012", "us-east-1"), status, at, at, retries=retries)


def test_progress_draws_on_a_terminal() -> None:
    """On a terminal the line shows scopes done/total, retries and failures, redrawn in place."""
    screen = _Terminal()
    progress = Progress(screen, interval=0.0)
    progress.planned(3)
    progress.finished(_outcome(ScopeStatus.SUCCEEDED, retries=2))
    progress.finished(_outcome(ScopeStatus.FAILED))
    progress.close()
    drawn = screen.getvalue()
    assert "\r\x1b[K" in drawn
    assert "scopes 2/3  profiles 0  retries 2  failed 1" in drawn
    assert drawn.endswith("\n")


def test_progress_is_silent_off_a_terminal() -> None:
    """Written to a pipe or a file, the progress display prints nothing at all."""
    pipe = io.StringIO()
    progress = Progress(pipe, interval=0.0)
    progress.planned(1)
    progress.finished(_outcome(ScopeStatus.SUCCEEDED))
    progress.close()
    assert pipe.getvalue() == ""


def test_json_formatter_keeps_extra_fields() -> None:
    """A record's extra fields become keys of its JSON object, beside time, level and message."""
    record = logging.LogRecord(
        "collector.scope", logging.INFO, __file__, 1, "scope %s", ("x",), None
    )
    record.event = "scope_succeeded"
    record.attempts = 3
    document = json.loads(JsonFormatter().format(record))
    assert document["message"] == "scope x"
    assert document["event"] == "scope_succeeded"
    assert document["attempts"] == 3
    assert document["level"] == "info"
    assert document["time"].endswith("Z")
