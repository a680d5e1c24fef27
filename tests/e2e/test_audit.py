"""`make audit`: pip-audit over the hashed locks, against a real advisory service on
loopback; an audit that could not check every pin fails, unless the machine is offline on
purpose (`--allow-offline`) and could check nothing at all."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ..support import ROOT

AUDIT = ROOT / "scripts" / "audit.py"
RUNTIME = "requirements/runtime.txt"


class Advisories:
    """An OSV-style advisory service: `vulnerable` package names get one advisory each;
    `failing` makes every query answer 503, `failing_for` the queries for those names."""

    def __init__(self) -> None:
        self.vulnerable: set[str] = set()
        self.failing = False
        self.failing_for: set[str] = set()
        self.queried: list[str] = []


@pytest.fixture
def advisories() -> Iterator[tuple[Advisories, str]]:
    state = Advisories()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            name = query["package"]["name"]
            state.queried.append(name)
            if state.failing or name in state.failing_for:
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


def test_an_unreachable_database_fails_the_audit(advisories: tuple[Advisories, str]) -> None:
    """When the advisory service fails, the audit says it could not be reached and that
    nothing was audited, and fails (exit 3): an audit that did not happen is not a pass."""
    state, url = advisories
    state.failing = True
    result = audit(RUNTIME, "--", "-s", "osv", "--osv-url", url)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "the advisory database could not be reached" in result.stdout
    assert "nothing could be audited" in result.stdout
    assert "FAILED: some pinned releases were not audited" in result.stdout
    assert "Traceback" not in result.stdout


def test_offline_on_purpose_is_recorded_and_passes(advisories: tuple[Advisories, str]) -> None:
    """`--allow-offline` (`make audit AUDIT_ALLOW_OFFLINE=1`) on a machine that can reach no
    advisory database records the lock as not audited, offline on purpose, and exits 0."""
    state, url = advisories
    state.failing = True
    result = audit("--allow-offline", RUNTIME, "--", "-s", "osv", "--osv-url", url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{RUNTIME}: NOT AUDITED: offline on purpose (--allow-offline)" in result.stdout


def _lock_of(tmp_path: Path, package: str) -> str:
    """A lock file holding only `package`'s pinned, hashed entry of the runtime lock."""
    text = (ROOT / RUNTIME).read_text()
    (entry,) = re.findall(rf"^{package}==.*?(?=^\S)", text, re.MULTILINE | re.DOTALL)
    path = tmp_path / f"{package}.txt"
    path.write_text(entry)
    return str(path)


def test_offline_on_purpose_does_not_excuse_a_partial_audit_or_a_vulnerability(
    advisories: tuple[Advisories, str], tmp_path: Path
) -> None:
    """With `--allow-offline`, a database that answered for one lock but not for another
    still fails the audit (it was reachable), and so does a vulnerable pin."""
    state, url = advisories
    state.failing_for = {"six"}
    locks = (_lock_of(tmp_path, "idna"), _lock_of(tmp_path, "six"))
    partial = audit("--allow-offline", *locks, "--", "-s", "osv", "--osv-url", url)
    assert partial.returncode == 3, partial.stdout + partial.stderr
    assert f"{locks[0]}: 1 packages checked, no known vulnerability" in partial.stdout
    assert f"{locks[1]}: nothing could be audited" in partial.stdout
    assert "NOT AUDITED" not in partial.stdout
    state.failing_for = set()
    state.vulnerable = {"six"}
    vulnerable = audit("--allow-offline", *locks, "--", "-s", "osv", "--osv-url", url)
    assert vulnerable.returncode == 1, vulnerable.stdout + vulnerable.stderr
    assert "six 1.17.0: GHSA-test-six" in vulnerable.stdout


def test_make_audit_passes_the_offline_flag_only_when_asked() -> None:
    """`make audit` runs the audit strict; `AUDIT_ALLOW_OFFLINE=1` adds `--allow-offline`,
    which CI's script gives (the network aside, `make test` never runs the audit)."""
    strict = subprocess.run(
        ["make", "-n", "audit"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    offline = subprocess.run(
        ["make", "-n", "audit", "AUDIT_ALLOW_OFFLINE=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "scripts/audit.py" in strict
    assert "--allow-offline" not in strict
    assert "scripts/audit.py --allow-offline" in offline
    assert "make audit AUDIT_ALLOW_OFFLINE=1" in (ROOT / ".ci" / "run").read_text()
    make_test = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "scripts/audit.py" not in make_test
