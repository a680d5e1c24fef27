"""The one helper for every file the collector creates: no link followed, explicit modes,
exclusive temporaries, atomic replacement."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector._files import LinkedFileError, ensure_private, open_private, replaced


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """A umask that would leave new files writable by everyone."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_open_private_creates_with_its_mode_and_reuses_a_plain_file(tmp_path: Path) -> None:
    """A new file gets the mode asked for whatever the umask; an existing plain file is
    opened as it is, its content and mode kept."""
    path = tmp_path / "a.lock"
    os.close(open_private(path))
    assert _mode(path) == 0o600
    path.write_text("kept")
    path.chmod(0o640)
    fd = open_private(path)
    os.close(fd)
    assert (path.read_text(), _mode(path)) == ("kept", 0o640)


@pytest.mark.parametrize("kind", ["symbolic", "hard", "dangling"])
def test_open_private_refuses_links(kind: str, tmp_path: Path) -> None:
    """A symbolic link (to a file or dangling) or a hard link at the name is refused, and
    nothing is created or opened through it."""
    victim = tmp_path / "victim"
    victim.write_text("victim")
    path = tmp_path / "a.lock"
    if kind == "hard":
        os.link(victim, path)
    else:
        path.symlink_to(victim if kind == "symbolic" else tmp_path / "made")
    with pytest.raises(LinkedFileError) as refused:
        ensure_private(path)
    assert refused.value.filename == str(path)
    assert victim.read_text() == "victim"
    assert not (tmp_path / "made").exists()


def test_replaced_writes_a_new_file_and_renames_it(tmp_path: Path) -> None:
    """The new content appears all at once under the name, with the mode asked for (or the
    replaced file's), and no temporary file stays behind."""
    path = tmp_path / "out.txt"
    with replaced(path, 0o644) as out:
        out.write(b"one")
        assert not path.exists()
    assert (path.read_bytes(), _mode(path)) == (b"one", 0o644)
    path.chmod(0o640)
    with replaced(path, keep_mode=True) as out:
        out.write(b"two")
    assert (path.read_bytes(), _mode(path)) == (b"two", 0o640)
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_replaced_keeps_the_old_file_on_error_and_refuses_a_link(tmp_path: Path) -> None:
    """An error while writing leaves the old file as it was and removes the temporary file;
    a symbolic link at the name is refused before anything is written."""
    path = tmp_path / "out.txt"
    path.write_bytes(b"old")

    def interrupted() -> None:
        with replaced(path) as out:
            out.write(b"half")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        interrupted()
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    link = tmp_path / "link.txt"
    link.symlink_to(path)
    with pytest.raises(LinkedFileError), replaced(link):
        pass
    assert path.read_bytes() == b"old"
