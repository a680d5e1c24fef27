"""What starting the command line costs: libraries only some commands use are not loaded."""

from __future__ import annotations

import subprocess
import sys

from ..support import ROOT


def test_the_command_line_loads_neither_asyncpg_nor_prometheus_client_up_front() -> None:
    """Importing the CLI (what every `collector run` does first) leaves asyncpg, which only
    PostgreSQL needs, and prometheus_client, which only metrics need, unloaded."""
    probe = (
        "import sys, collector._cli.main; "
        "print(sorted(m for m in ('asyncpg', 'prometheus_client') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
