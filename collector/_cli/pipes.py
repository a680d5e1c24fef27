"""stdout when its reader may go away (`collector show | head`): the command ends quietly.

Every `collector` command writes stdout through `Guarded`: a write or flush that meets a
closed pipe raises `OutputClosed`, which is neither an `OSError` (the database adapter would
take it for its own failure) nor a `CollectorError`; `main` turns it into exit 0, as `gh`,
`aws` and `grep` do, and `detach_stdout` keeps Python's final flush from failing again.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class OutputClosed(Exception):
    """The reader of stdout went away."""


def _closed(exc: OSError) -> bool:
    return isinstance(exc, BrokenPipeError) or exc.errno in (errno.EPIPE, errno.ECONNRESET)


class Guarded:
    """A text stream whose writes raise `OutputClosed` once its reader has gone."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as exc:
            if _closed(exc):
                raise OutputClosed from None
            raise

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            if _closed(exc):
                raise OutputClosed from None
            raise

    def isatty(self) -> bool:
        try:
            return self.stream.isatty()
        except (OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


@contextmanager
def guarded_stdout() -> Iterator[None]:
    """`sys.stdout` guarded for the block (restored after, as tests capture it)."""
    original = sys.stdout
    sys.stdout = Guarded(original)
    try:
        yield
    finally:
        sys.stdout = original


def detach_stdout() -> None:
    """Point stdout's descriptor at /dev/null: what is still buffered, and Python's flush at
    exit, go nowhere instead of failing on the closed pipe."""
    try:
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
