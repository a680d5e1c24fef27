"""The documentation as the tests read it: the README and the pages of docs/, their code
blocks, their SQL queries and their `collector` command lines."""

from __future__ import annotations

import re
import shlex
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The repository root."""
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^([ \t]*)```(\w*)[^\n]*\n(.*?)^[ \t]*```[ \t]*$", re.DOTALL | re.MULTILINE)


def pages() -> list[Path]:
    """The README and every page of the documentation site."""
    found = sorted(DOCS.glob("*.md"))
    assert found, "docs/ holds no page"
    return [ROOT / "README.md", *found]


def page_text(name: str) -> str:
    """One page's Markdown: `README.md`, or a page of docs/ by file name."""
    path = ROOT / name if name == "README.md" else DOCS / name
    return path.read_text(encoding="utf-8")


def section(name: str, heading: str) -> str:
    """A page's section: from its heading line to the next heading of the same or a higher
    level (or the end of the page)."""
    text = page_text(name)
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(f"\n{heading}\n")
    ends = [
        m.start()
        for m in re.finditer(rf"^#{{1,{level}}} ", text[start + 1 :], re.MULTILINE)
        if m.start() > 0
    ]
    return text[start : start + 1 + ends[0]] if ends else text[start:]


@dataclass(frozen=True)
class Block:
    """A fenced code block: where it is, its language tag, its text (dedented)."""

    page: str
    lang: str
    text: str


def code_blocks(text: str, page: str = "") -> list[Block]:
    """The fenced code blocks of some Markdown, indented ones (in list items) included."""
    return [
        Block(page, m.group(2), textwrap.dedent(m.group(3)) if m.group(1) else m.group(3))
        for m in _FENCE.finditer(text)
    ]


def all_blocks(lang: str | None = None) -> list[Block]:
    """Every code block of every page, or those of one language."""
    found = [b for path in pages() for b in code_blocks(path.read_text("utf-8"), path.name)]
    return [b for b in found if lang is None or b.lang == lang]


def prose(text: str) -> str:
    """The Markdown outside its fenced code blocks."""
    return _FENCE.sub("", text)


def inline_code(text: str, *, headings: bool = True) -> list[str]:
    """The inline code spans outside fenced blocks, a span broken over lines joined; those of
    headings (names, such as `collector history`, rather than examples) only if asked."""
    outside = prose(text)
    if not headings:
        outside = re.sub(r"^#+ .*$", "", outside, flags=re.MULTILINE)
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", outside)]


# --- SQL -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A query as a page gives it, and the databases it is written for."""

    page: str
    sql: str
    dialects: frozenset[str]


_DIALECT_MARKS = {"-- PostgreSQL": "postgresql", "-- SQLite": "sqlite"}
BOTH = frozenset({"postgresql", "sqlite"})


def queries() -> list[Query]:
    """Every SQL query of the README and the pages: each ```sql block (one statement; a first
    line `-- PostgreSQL` or `-- SQLite` writes it for that database alone), and each inline
    code span that starts with SELECT."""
    found: list[Query] = []
    for path in pages():
        text = path.read_text("utf-8")
        for block in code_blocks(text, path.name):
            if block.lang != "sql":
                continue
            first = block.text.splitlines()[0].strip()
            dialects = BOTH
            if first.startswith("-- "):
                assert first in _DIALECT_MARKS, f"{path.name}: unknown dialect mark {first!r}"
                dialects = frozenset({_DIALECT_MARKS[first]})
            found.append(Query(path.name, block.text, dialects))
        found += [
            Query(path.name, span, BOTH)
            for span in inline_code(text)
            if re.match(r"(SELECT|WITH)\b", span, re.IGNORECASE)
        ]
    return found


# --- command lines ---------------------------------------------------------------------------

SHELL_BLOCKS = frozenset({"sh", "bash", "console", "cron", "text", ""})
"""Code blocks that hold command lines (or usage lines, in `text`)."""
_PROGRAMS = {
    ("collector",): "collector",
    (".venv/bin/collector",): "collector",
    ("python", "-m", "collector"): "collector",
    ("python3", "-m", "collector"): "collector",
    ("python", "-m", "collector.simulator"): "simulator",
}


@dataclass(frozen=True)
class Command:
    """A `collector` (or simulator) command line a page shows, as argv after the program."""

    page: str
    program: str
    argv: tuple[str, ...]
    line: str


def _shell_lines(text: str) -> Iterator[str]:
    """Logical lines: continuations joined."""
    yield from re.sub(r"\\\n\s*", " ", text).splitlines()


def _usage_token(token: str) -> str | None:
    """A usage line's token as one would type it: `[--format` -> `--format`,
    `table|json]...` -> `table`; `...` alone is dropped."""
    token = token.lstrip("[").rstrip(".").rstrip("]")
    token = token.split("|")[0]
    return token or None


_COMMAND_START = re.compile(
    r"^\s*(?:\$\s+)?(?:(?:[A-Z_][A-Z0-9_]*=\S*|[\d*/,-]+)\s+)*"
    r"(?:collector|\.venv/bin/collector|python3? -m collector(?:\.simulator)?)(?:\s|$)"
)
"""A command line: the program first, after a console's `$ ` prompt, `VAR=value` settings or
a crontab entry's five time fields."""


def _command_in(text: str, page: str) -> Command | None:
    if not _COMMAND_START.match(text):
        return None
    tokens = shlex.split(text, comments=True)
    start = 0
    while not any(tuple(tokens[start : start + len(w)]) == w for w in _PROGRAMS):
        start += 1
    words, program = next(
        (w, p) for w, p in _PROGRAMS.items() if tuple(tokens[start : start + len(w)]) == w
    )
    argv: list[str] = []
    for token in tokens[start + len(words) :]:
        if token in {"|", "&&", "||", ";"} or token.startswith((">", "<", "2>")):
            break  # a pipe or a redirection: the command ends
        usage = _usage_token(token)
        if usage is not None:
            argv.append(usage)
    return Command(page, program, tuple(argv), text)


def commands() -> list[Command]:
    """Every `collector ...` (and `python -m collector.simulator ...`) command line of the
    README and the pages: in shell, crontab and usage blocks, each line or each part of a
    line joined by `&&` or `;`, and in inline code spans of the running text."""
    found: list[Command] = []
    for path in pages():
        text = path.read_text("utf-8")
        parts = [
            part
            for block in code_blocks(text, path.name)
            if block.lang in SHELL_BLOCKS
            for line in _shell_lines(block.text)
            for part in re.split(r"&&|;|\|\|", line)
        ]
        for part in [*parts, *inline_code(text, headings=False)]:
            command = _command_in(part, path.name)
            if command is not None:
                found.append(command)
    return found


@dataclass(frozen=True)
class Example:
    """A command a console block shows (`$ collector ...`) and the output shown under it."""

    command: Command
    output: tuple[str, ...]


def console_examples(name: str) -> list[Example]:
    """The `$ collector ...` lines of a page's console blocks, each with the lines under it
    up to the next prompt."""
    found: list[Example] = []
    for block in code_blocks(page_text(name), name):
        if block.lang != "console":
            continue
        current: Command | None = None
        output: list[str] = []
        for line in [*_shell_lines(block.text), "$"]:
            if line.startswith("$"):
                if current is not None:
                    found.append(Example(current, tuple(output)))
                current, output = _command_in(line, name), []
            elif line.strip():
                output.append(line)
    return found
