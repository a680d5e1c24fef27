"""Files the collector creates, made so that a link planted at their name redirects nothing.

Every file the collector makes goes through here: the lock files and the database of
SQLite, `export --output` and the metrics textfile. A file is opened with `O_NOFOLLOW`
(a symbolic link at its name is refused, never followed) and checked to be a plain file
with one name (a hard link to someone else's file is refused too); a new file is created
with `O_EXCL` and given its mode explicitly, whatever the umask; a file that is replaced is
written to a temporary file of its own, created exclusively under an unpredictable name
beside it, then renamed over it (a rename replaces a link, it never writes through one).

Errors are `OSError`s; `LinkedFileError` says a link was found at a name. Standard library
only: the adapters and the CLI turn these into their own errors.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

PRIVATE = 0o600
"""The mode of what the collector creates unless a reader needs more (the metrics file)."""

_NEW = os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_EXISTING = os.O_NOFOLLOW | os.O_CLOEXEC


class LinkedFileError(OSError):
    """A symbolic link, or a file with another name too (a hard link), where the collector
    keeps a file of its own. `strerror` says which, `filename` names the file."""


def open_private(path: Path, mode: int = PRIVATE) -> int:
    """A read-write descriptor of the plain file at `path`, created with `mode` if missing.

    For files that are kept and reused (lock files): an existing file is opened as it is,
    but only if it is a plain file of its own.
    """
    try:
        fd = os.open(path, os.O_RDWR | _NEW, mode)
    except FileExistsError:
        fd = _open_existing(path, os.O_RDWR)
    else:
        os.fchmod(fd, mode)
        return fd
    try:
        _check_own(fd, path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def ensure_private(path: Path, mode: int = PRIVATE) -> None:
    """Create an empty file at `path` with `mode` if there is none; refuse a link there.

    For files another library then opens by name (a SQLite database): nothing is written
    here, but the name is known to hold a plain file of its own, or to have just been made.
    """
    fd = open_private(path, mode)
    os.close(fd)


def refuse_link(path: Path) -> None:
    """Raise `LinkedFileError` if a symbolic link is at `path` (a file there, or none, is
    fine): for names another library creates files at, without following links."""
    if path.is_symlink():
        raise _linked(path, SYMLINK)


@contextmanager
def replaced(path: Path, mode: int = PRIVATE, *, keep_mode: bool = False) -> Iterator[BinaryIO]:
    """A new file to write, renamed over `path` when the block ends without an error.

    The new file has `mode`, or with `keep_mode` the mode of the plain file it replaces. A
    link at `path` is refused; on an error the temporary file is removed and `path` keeps
    what it held.
    """
    refuse_link(path)
    if keep_mode:
        with suppress(FileNotFoundError):
            mode = stat.S_IMODE(path.lstat().st_mode)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | _NEW, PRIVATE)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            yield out
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def _open_existing(path: Path, flags: int) -> int:
    try:
        return os.open(path, flags | _EXISTING)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _linked(path, SYMLINK) from None
        raise


def _check_own(fd: int, path: Path) -> None:
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode) or status.st_nlink != 1:
        raise _linked(path, NOT_OWN)


SYMLINK = "is a symbolic link; remove it"
NOT_OWN = "is not a plain file of its own (a link?); remove it"


def _linked(path: Path, what: str) -> LinkedFileError:
    # `strerror` is what callers show after the file's name.
    return LinkedFileError(errno.ELOOP, what, str(path))
