"""What starting the command line costs: libraries only some commands use are not loaded."""

from __future__ import annotations

import subprocess
import sys

from ..support import ROOT


def test_the_command_line_loads_no_library_only_some_commands_need() -> None:
    """Importing the CLI (what every `collector run` does first) leaves asyncpg, which only
    PostgreSQL needs, prometheus_client, which only metrics need, and alembic, which only a
    migration needs, unloaded."""
    probe = (
        "import sys, collector._cli.main; "
        "print(sorted(m for m in ('asyncpg', 'prometheus_client', 'alembic') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
