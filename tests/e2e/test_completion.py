"""Shell completion as bash runs it: the script `collector completion bash` prints, sourced
into a real bash, completes commands, options and their values."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from collector._cli.completion import bash
from collector._cli.main import build_parser

BASH = shutil.which("bash")


def complete(line: str) -> list[str]:
    """What bash offers for the last word of `line` (a trailing space: a new word)."""
    assert BASH is not None
    words = line.split() + ([""] if line.endswith(" ") else [])
    array = " ".join(f"'{w}'" for w in words)
    script = (
        bash(build_parser())
        + f"\nCOMP_WORDS=({array}); COMP_CWORD={len(words) - 1}\n"
        + '_collector_complete; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        [BASH, "--norc", "--noprofile"], input=script, capture_output=True, text=True, check=True
    )
    assert done.stderr == ""
    return [word for word in done.stdout.splitlines() if word]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@pytest.mark.parametrize(
    ("line", "offered"),
    [
        ("collector sh", ["show"]),
        ("collector d", ["db", "demo"]),
        ("collector db ", ["upgrade"]),
        ("collector run --log-f", ["--log-format"]),
        ("collector run --log-format ", ["text", "json"]),
        ("collector show -o ", ["table", "tsv", "json", "jsonl", "csv"]),
        ("collector changes --change-type up", ["updated"]),
        ("collector show --resources f", ["flows"]),
        ("collector completion ", ["bash", "zsh", "fish"]),
        ("collector db upgrade --database-url-f", ["--database-url-file"]),
        ("collector -v run --dry", ["--dry-run"]),
    ],
)
def test_bash_completes_commands_options_and_values(line: str, offered: list[str]) -> None:
    """Sourced into bash, the script offers the commands, options and values the parser has."""
    assert complete(line) == offered
