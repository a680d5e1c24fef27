"""`make audit`: pip-audit over the hashed locks, against a real advisory service on
loopback; an unreachable database is reported, not taken for a clean audit."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ..support import ROOT

AUDIT = ROOT / "scripts" / "audit.py"
RUNTIME = "requirements/runtime.txt"


class Advisories:
    """An OSV-style advisory service: `vulnerable` package names get one advisory each;
    `failing` makes every query answer 503."""

    def __init__(self) -> None:
        self.vulnerable: set[str] = set()
        self.failing = False
        self.queried: list[str] = []


@pytest.fixture
def advisories() -> Iterator[tuple[Advisories, str]]:
    state = Advisories()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            name = query["package"]["name"]
            state.queried.append(name)
            if state.failing:
                self.send_response(503)
                self.end_headers()
                return
            body: dict[str, Any] = {}
            if name in state.vulnerable:
                body = {
                    "vulns": [
                        {
                            "id": f"GHSA-test-{name}",
                            "summary": "a test advisory",
                            "affected": [
                                {
                                    "package": {"name": name, "ecosystem": "PyPI"},
                                    "ranges": [
                                        {
                                            "type": "ECOSYSTEM",
                                            "events": [{"introduced": "0"}, {"fixed": "99.0"}],
                                        }
                                    ],
                                }
                            ],
                        }
                    ]
                }
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def audit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(AUDIT), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_vulnerable_pin_fails_the_audit(advisories: tuple[Advisories, str]) -> None:
    """Every pinned package of the lock is looked up, and a known vulnerability in one of
    them fails the audit (exit 1) naming the package, its pin, the advisory and the fix."""
    state, url = advisories
    state.vulnerable = {"six"}
    result = audit(RUNTIME, "--", "-s", "osv", "--osv-url", url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "six 1.17.0: GHSA-test-six (fixed in 99.0)" in result.stdout
    assert {"six", "sqlalchemy", "asyncpg", "prometheus-client"} <= set(state.queried)


def test_a_clean_lock_passes(advisories: tuple[Advisories, str]) -> None:
    """With no advisory for any pin, the audit passes and says how many it checked."""
    state, url = advisories
    result = audit(RUNTIME, "--", "-s", "osv", "--osv-url", url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(set(state.queried))} packages checked, no known vulnerability" in result.stdout


def test_an_unreachable_database_is_reported_not_failed(
    advisories: tuple[Advisories, str],
) -> None:
    """When the advisory service fails, the audit says it could not be reached and that
    nothing was audited, and exits 0 rather than failing a build that is offline."""
    state, url = advisories
    state.failing = True
    result = audit(RUNTIME, "--", "-s", "osv", "--osv-url", url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the advisory database could not be reached" in result.stdout
    assert "nothing could be audited" in result.stdout
    assert "Traceback" not in result.stdout
