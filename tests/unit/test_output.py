"""The progress line, log lines, the run summary and tables, against in-memory streams."""

from __future__ import annotations

import csv
import io
import json
import logging
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from collector._cli.escape import escape_control, neutralize_formula
from collector._cli.output import (
    AWS_LOGGERS,
    EVENT_LOGGERS,
    LIBRARY_LOGGERS,
    JsonFormatter,
    Progress,
    configure_logging,
)
from collector._cli.render import MIN_COLUMN, CsvWriter, TableWriter, TsvWriter, fitted
from collector._cli.summary import format_summary
from collector._errors import ErrorKind
from collector._model.resources import PROFILES
from collector._model.run import RunResult
from collector._model.scopes import Listing, Scope, ScopeOutcome, ScopeStatus

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
    names = (*AWS_LOGGERS, *LIBRARY_LOGGERS, *EVENT_LOGGERS, "collector")
    levels = {name: logging.getLogger(name).level for name in names}
    yield io.StringIO()
    # JSON logs capture Python's warnings; left captured, the next capture is a no-op (logging
    # keeps the first `showwarning` it saw), and pytest's own catches the next test's warning.
    logging.captureWarnings(False)
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
    # The run, its error, the failure's group, its one example, where to look: one line each.
    assert len(summary.splitlines()) == 5
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
    # The run, the failure's group, its one example, where to look: one line each.
    assert len(summary.splitlines()) == 4
    assert "\x1b" not in summary
    assert "\u202e" not in summary
    assert "failed 12345678901\\x1b[2J us-east-1\\u202e\\n access_denied: denied" in summary


def test_escape_control_leaves_printable_text_alone() -> None:
    """Letters of any script, punctuation and emoji are not escaped; controls are."""
    text = "Zürich café 東京 ✓ 🙂 /path?q=1&x=a+b"
    assert escape_control(text) == text
    assert escape_control("a\x00b\x7fc\u202ed") == "a\\x00b\\x7fc\\u202ed"


# --- tab-separated values, tables that fit, the log levels -------------------------------------


def test_tsv_is_one_line_per_row_with_escapes() -> None:
    """TSV: a header, then one line per row of exactly one cell per column; a tab or newline
    in a value is written as an escape, NULL as nothing, lists as JSON."""
    out = io.StringIO()
    writer = TsvWriter(["name", "fields", "gone"], out)
    writer.row({"name": "a\tb\nc" + HOSTILE, "fields": ["x", "y"], "gone": None})
    writer.close()
    header, line = out.getvalue().splitlines()
    assert header == "name\tfields\tgone"
    cells = line.split("\t")
    assert len(cells) == 3
    assert cells[0].startswith("a\\tb\\nc")
    assert "\x1b" not in line
    assert cells[1:] == ['["x","y"]', ""]


@pytest.mark.parametrize("raw", [False, True])
def test_tsv_formula_cells(raw: bool) -> None:
    """A TSV cell a spreadsheet would read as a formula gets a leading ' unless raw."""
    out = io.StringIO()
    writer = TsvWriter(["v"], out, raw=raw, headers=False)
    for value in ("=1+2", "-x", "safe"):
        writer.row({"v": value})
    writer.close()
    assert out.getvalue().splitlines() == (
        ["=1+2", "-x", "safe"] if raw else ["'=1+2", "'-x", "safe"]
    )


def test_a_failing_query_prints_no_tsv_header() -> None:
    """As CSV's, the TSV header comes with the first row (or at the end): a query that fails
    before its first row prints nothing."""
    out = io.StringIO()
    TsvWriter(["a"], out)
    assert out.getvalue() == ""


def _rows(writer: TableWriter, rows: list[dict[str, str]]) -> None:
    for row in rows:
        writer.row(row)
    writer.close()


ROWS = [
    {
        "account_id": "123456789012",
        "name": "crm-" + "x" * 40,
        "arn": "arn:aws:appflow:eu-west-1:123456789012:connectorprofile/crm-" + "x" * 40,
        "version": "3",
    },
    {"account_id": "000000000001", "name": "hr", "arn": "arn:aws:appflow:x", "version": "1"},
]


def test_a_table_fits_its_width_leaving_out_droppable_columns_first() -> None:
    """Too wide for the terminal, a table leaves out its droppable columns (as few as
    needed, in order) and says which."""
    out = io.StringIO()
    writer = TableWriter(
        ["account_id", "name", "arn", "version"], out, width=70, droppable=["arn", "version"]
    )
    _rows(writer, ROWS)
    lines = out.getvalue().splitlines()
    assert writer.left_out == ["arn"]
    assert lines[0].split() == ["account_id", "name", "version"]
    assert all(len(line) <= 70 for line in lines)
    assert "crm-" + "x" * 40 in lines[1]


def test_a_table_cuts_its_widest_columns_to_fit() -> None:
    """When leaving columns out is not enough (or not allowed), the widest columns are cut,
    each cut cell ending in an ellipsis, never below the minimum width."""
    out = io.StringIO()
    writer = TableWriter(["account_id", "name", "arn", "version"], out, width=60)
    _rows(writer, ROWS)
    lines = out.getvalue().splitlines()
    assert writer.left_out == []
    assert all(len(line) <= 60 for line in lines)
    assert "…" in lines[1]
    assert lines[2].split()[:2] == ["000000000001", "hr"]
    assert fitted(["a", "b"], [50, 50], 10) == ([0, 1], [MIN_COLUMN, MIN_COLUMN])


def test_a_wide_table_is_whole() -> None:
    """Without a width (`--wide`, or a pipe), nothing is cut or left out."""
    out = io.StringIO()
    _rows(TableWriter(["account_id", "name", "arn", "version"], out), ROWS)
    assert ROWS[0]["arn"] in out.getvalue()
    assert "…" not in out.getvalue()


@pytest.mark.parametrize(
    ("verbose", "collector", "libraries", "events"),
    [
        (0, logging.INFO, logging.WARNING, logging.WARNING),
        (1, logging.DEBUG, logging.WARNING, logging.INFO),
        (2, logging.DEBUG, logging.DEBUG, logging.INFO),
    ],
)
def test_verbosity_shows_the_collector_first_and_libraries_at_two(
    logs: io.StringIO, verbose: int, collector: int, libraries: int, events: int
) -> None:
    """`-v` shows the collector's own events and debug lines; the database libraries
    (aiosqlite among them) log their debug lines only with `-vv`."""
    configure_logging("text", verbose, stream=logs)
    assert logging.getLogger("collector").level == collector
    assert logging.getLogger("collector.scope").level == events
    assert logging.getLogger("collector.run").level == events
    for name in ("aiosqlite", "sqlalchemy", "alembic", "asyncpg"):
        assert logging.getLogger(name).level == libraries


def test_verbose_text_lines_carry_the_event_s_counts(logs: io.StringIO) -> None:
    """With `-v`, a text line shows its event's fields (counts included) after the message."""
    configure_logging("text", 1, stream=logs)
    logging.getLogger("collector.scope").info(
        "scope x succeeded", extra={"event": "scope_succeeded", "pages": 2, "profiles": 7}
    )
    assert (
        logs.getvalue()
        .rstrip()
        .endswith("scope x succeeded event=scope_succeeded pages=2 profiles=7")
    )


def test_json_logs_carry_python_s_warnings_as_json(logs: io.StringIO) -> None:
    """With JSON logs, a warning Python itself prints is a JSON line too."""
    configure_logging("json", 0, stream=logs)
    try:
        warnings.warn("something is deprecated", DeprecationWarning, stacklevel=1)
    finally:
        logging.captureWarnings(False)
    (line,) = logs.getvalue().splitlines()
    assert json.loads(line)["level"] == "warning"
    assert "something is deprecated" in json.loads(line)["message"]
