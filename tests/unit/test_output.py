"""The progress line, log lines, the run summary and tables, against in-memory streams."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from collector._cli.escape import escape_control, neutralize_formula
from collector._cli.output import AWS_LOGGERS, JsonFormatter, Progress, configure_logging
from collector._cli.render import CsvWriter, TableWriter, format_summary
from collector._errors import ErrorKind
from collector._model.run import RunResult
from collector._model.scopes import PROFILES, Listing, Scope, ScopeOutcome, ScopeStatus

TOKEN = "FwoGZXIvYXdzEJr//////////wEaDNpYcD+abc"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
# What a hostile or broken AWS string may hold: a screen wipe, a window title, a fake line.
HOSTILE = "denied\x1b[2J\x1b]0;owned\x07\n2026-01-01 00:00:00,000 ERROR forged\u2028x\x9b"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _outcome(status: ScopeStatus, retries: int = 0) -> ScopeOutcome:
    at = datetime(2026, 11, 27, tzinfo=UTC)
    listings = {PROFILES: Listing(status=status, retries=retries)}
    return ScopeOutcome(Scope("123456789012", "us-east-1"), status, at, at, listings)


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


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The root logger's output, restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in AWS_LOGGERS}
    yield io.StringIO()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, previous in levels.items():
        logging.getLogger(name).setLevel(previous)


def test_text_log_lines_escape_control_characters(logs: io.StringIO) -> None:
    """A text log line shows control characters as escapes: one line, no terminal control."""
    configure_logging("text", verbose=False, stream=logs)
    logging.getLogger("collector.scope").warning("scope x failed: %s", HOSTILE)
    text = logs.getvalue()
    assert text.count("\n") == 1
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\u2028" not in text
    assert "\\x1b[2J\\x1b]0;owned\\x07\\n2026-01-01 00:00:00,000 ERROR forged\\u2028x\\x9b" in text


def test_text_log_traceback_lines_are_indented(logs: io.StringIO) -> None:
    """An exception's traceback follows its line indented, so none of it reads as a log line."""
    configure_logging("text", verbose=True, stream=logs)
    try:
        raise RuntimeError("boom\n2026-01-01 00:00:00,000 ERROR forged")
    except RuntimeError:
        logging.getLogger("collector").debug("internal error", exc_info=True)
    first, *rest = logs.getvalue().splitlines()
    assert first.endswith("DEBUG internal error")
    assert rest
    assert all(line.startswith("    ") for line in rest)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_every_log_line_is_redacted(logs: io.StringIO, log_format: str) -> None:
    """Secrets are masked in the message, its arguments, extra fields and exception text."""
    configure_logging(log_format, verbose=True, stream=logs)
    log = logging.getLogger("collector")
    log.info("headers %s", {"X-Amz-Security-Token": TOKEN}, extra={"detail": f"token={TOKEN}"})
    log.warning("url %s", "postgresql://u:s3cret@db/x", extra={"nested": {"k": [f"token={TOKEN}"]}})
    try:
        raise ValueError(f"aws_secret_access_key={SECRET}")
    except ValueError:
        log.error("failed", exc_info=True)
    text = logs.getvalue()
    for secret in (TOKEN, SECRET, "s3cret"):
        assert secret not in text
    assert "***" in text
    if log_format == "json":
        documents = [json.loads(line) for line in text.splitlines()]
        assert documents[0]["detail"] == "token=***"
        assert documents[1]["nested"] == {"k": ["token=***"]}
        assert documents[2]["exception"] == "ValueError: aws_secret_access_key=***"


@pytest.mark.parametrize(
    ("verbose", "debug_aws", "aws_level"),
    [(False, False, logging.WARNING), (True, False, logging.WARNING), (True, True, logging.DEBUG)],
)
def test_aws_sdk_logs_only_with_debug_aws(
    logs: io.StringIO, verbose: bool, debug_aws: bool, aws_level: int
) -> None:
    """`-v` leaves the AWS SDK's loggers at WARNING; `--debug-aws` turns them to DEBUG."""
    configure_logging("text", verbose, stream=logs, debug_aws=debug_aws)
    for name in AWS_LOGGERS:
        assert logging.getLogger(name).level == aws_level


def test_summary_escapes_control_characters() -> None:
    """AWS's error messages in the run summary cannot drive the terminal or add lines."""
    at = datetime(2026, 11, 27, tzinfo=UTC)
    result = RunResult(run_id="r", started_at=at)
    failed = ScopeOutcome(
        Scope("123456789012", "us-east-1"),
        ScopeStatus.FAILED,
        at,
        at,
        error_code=ErrorKind.ACCESS_DENIED,
        error_message=HOSTILE,
    )
    result.tally(failed, {})
    result.error = f"STS said: {HOSTILE}"
    result.finish(at)
    summary = format_summary(result, 1.0)
    assert len(summary.splitlines()) == 3
    assert "\x1b" not in summary
    assert "\u2028" not in summary
    assert "\x9b" not in summary
    assert "denied\\x1b[2J" in summary


def test_table_cells_escape_control_characters() -> None:
    """A table cell shows control characters as escapes, and the table keeps its lines."""
    out = io.StringIO()
    table = TableWriter(["name", "type"], out)
    table.row({"name": "a\tb", "type": HOSTILE})
    table.row({"name": ["x\ny"], "type": None})
    table.close()
    assert len(out.getvalue().splitlines()) == 3
    assert "\x1b" not in out.getvalue()
    assert "a\\tb" in out.getvalue()
    assert "x\\ny" in out.getvalue()


@pytest.mark.parametrize("raw", [False, True])
def test_csv_formula_cells(raw: bool) -> None:
    """CSV cells starting with = + - @ get a leading ' unless raw; a leading tab or CR is
    written as an escape, so no spreadsheet strips it to find a formula behind it."""
    out = io.StringIO()
    writer = CsvWriter(["v"], out, raw=raw)
    values = ["=1+2", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "safe", "a=b", "'quoted"]
    for value in values:
        writer.row({"v": value})
    writer.close()
    cells = [row[0] for row in csv.reader(io.StringIO(out.getvalue(), newline=""))]
    expected = ["'=1+2", "'+1", "'-1", "'@SUM(A1)", "\\t=1", "\\r=1", "safe", "a=b", "'quoted"]
    assert cells[1:] == (values if raw else expected)
    assert neutralize_formula("=1") == "'=1"
    assert neutralize_formula("a=b") == "a=b"
    assert neutralize_formula("\t=1") == "'\t=1"


def test_csv_cells_escape_control_characters() -> None:
    """A CSV cell shows C0, C1 and bidirectional controls as escapes, so each row is one
    line that cannot drive a terminal; a list or object stays JSON that decodes to the
    value stored."""
    out = io.StringIO()
    writer = CsvWriter(["name", "properties"], out)
    properties = {"note": HOSTILE + "\u202eevil\x7f", "scopes": ["a\u2066b"]}
    writer.row({"name": HOSTILE + "\u202e", "properties": properties})
    writer.close()
    text = out.getvalue()
    assert len(text.splitlines()) == 2
    for char in ("\x1b", "\x07", "\x9b", "\u2028", "\u202e", "\u2066", "\x7f", "\r"):
        assert char not in text, repr(char)
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["name"] == escape_control(HOSTILE + "\u202e")
    assert row["name"].startswith("denied\\x1b[2J")
    assert json.loads(row["properties"]) == properties


def test_summary_escapes_every_field() -> None:
    """Every field of the summary passes the escaping function, not only AWS's messages: a
    hostile account id or region cannot drive the terminal or add a line either."""
    at = datetime(2026, 11, 27, tzinfo=UTC)
    result = RunResult(run_id="r", started_at=at)
    failed = ScopeOutcome(
        Scope("12345678901\x1b[2J", "us-east-1\u202e\n"),
        ScopeStatus.FAILED,
        at,
        at,
        error_code=ErrorKind.ACCESS_DENIED,
        error_message="denied",
    )
    result.tally(failed, {})
    result.finish(at)
    summary = format_summary(result, 1.0)
    assert len(summary.splitlines()) == 2
    assert "\x1b" not in summary
    assert "\u202e" not in summary
    assert "failed 12345678901\\x1b[2J us-east-1\\u202e\\n access_denied: denied" in summary


def test_escape_control_leaves_printable_text_alone() -> None:
    """Letters of any script, punctuation and emoji are not escaped; controls are."""
    text = "Zürich café 東京 ✓ 🙂 /path?q=1&x=a+b"
    assert escape_control(text) == text
    assert escape_control("a\x00b\x7fc\u202ed") == "a\\x00b\\x7fc\\u202ed"
