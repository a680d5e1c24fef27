#!/usr/bin/env python3
"""Known vulnerabilities in the pinned dependencies: pip-audit over each lock file.

    scripts/audit.py [--allow-offline] requirements/runtime.txt ... [-- PIP-AUDIT OPTIONS]

Each lock is read as it is (hashes required, nothing resolved or installed) and every pinned
release is looked up in the advisory database (PyPI's by default; `-- -s osv` for OSV).

Exit 0 when every pinned release was checked and none has a known vulnerability; 1 if one
has; 3 if some release could not be checked (the database unreachable, or not knowing it):
an audit that did not happen is not a clean one. `--allow-offline` says a machine is offline
on purpose: a lock of which *nothing* could be checked (the database unreachable) is then
recorded as not audited and exits 0; a partial audit still fails, and so does a vulnerability.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def audit(lock: str, extra: list[str]) -> tuple[int, int, list[str]]:
    """(packages checked, packages not checked, vulnerability lines) for one lock file."""
    command = [
        sys.executable, "-m", "pip_audit", "-r", lock, "--require-hashes", "--disable-pip",
        "--progress-spinner", "off", "--format", "json", "--desc", "off", *extra,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        lines = result.stderr.strip().splitlines()
        reason = lines[-1] if lines else f"pip-audit exited {result.returncode}"
        print(f"audit: {lock}: the advisory database could not be reached: {reason}")
        return 0, -1, []
    checked, unchecked, found = 0, 0, []
    for dependency in report.get("dependencies", []):
        if "skip_reason" in dependency:
            unchecked += 1
            continue
        checked += 1
        for vuln in dependency.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            found.append(
                f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixes})"
            )
    return checked, unchecked, found


NOT_AUDITED = 3


def report(lock: str, checked: int, unchecked: int, found: list[str]) -> None:
    """One lock's lines: each vulnerability, then what could and could not be checked."""
    for line in found:
        print(f"audit: {lock}: {line}")
    if unchecked > 0:
        print(
            f"audit: {lock}: the advisory database could not be reached for {unchecked} "
            f"of {checked + unchecked} packages; those were not audited"
        )
    if checked:
        verdict = f"{len(found)} known vulnerabilities" if found else "no known vulnerability"
        print(f"audit: {lock}: {checked} packages checked, {verdict}")
    else:
        print(f"audit: {lock}: nothing could be audited")


def main(argv: list[str]) -> int:
    split = argv.index("--") if "--" in argv else len(argv)
    locks, extra = argv[:split], argv[split + 1 :]
    allow_offline = "--allow-offline" in locks
    locks = [lock for lock in locks if lock != "--allow-offline"]
    if not locks:
        raise SystemExit(__doc__)
    vulnerable = False
    checked_in_all = 0
    not_audited: list[str] = []
    for lock in locks:
        checked, unchecked, found = audit(lock, extra)
        report(lock, checked, unchecked, found)
        vulnerable = vulnerable or bool(found)
        checked_in_all += checked
        if unchecked:
            not_audited.append(lock)
    if vulnerable:
        return 1
    if not_audited and allow_offline and checked_in_all == 0:
        # Nothing reached the database: the machine is offline, as the caller said it may be.
        for lock in not_audited:
            print(f"audit: {lock}: NOT AUDITED: offline on purpose (--allow-offline)")
        return 0
    if not_audited:
        print(
            "audit: FAILED: some pinned releases were not audited; run where the advisory "
            "database is reachable (--allow-offline excuses only a machine that reaches it "
            "for no lock at all)"
        )
        return NOT_AUDITED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
