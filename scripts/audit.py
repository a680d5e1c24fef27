#!/usr/bin/env python3
"""Known vulnerabilities in the pinned dependencies: pip-audit over each lock file.

    scripts/audit.py requirements/runtime.txt requirements/test.txt [-- PIP-AUDIT OPTIONS]

Each lock is read as it is (hashes required, nothing resolved or installed) and every pinned
release is looked up in the advisory database (PyPI's by default; `-- -s osv` for OSV).
Exit 1 if any pinned release has a known vulnerability. When the database cannot be reached,
or does not know a package, this says so and how many packages went unchecked, and exits 0:
an audit that could not run is reported, not mistaken for a clean one or for a failure.
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


def main(argv: list[str]) -> int:
    split = argv.index("--") if "--" in argv else len(argv)
    locks, extra = argv[:split], argv[split + 1 :]
    if not locks:
        raise SystemExit(__doc__)
    vulnerable = False
    for lock in locks:
        checked, unchecked, found = audit(lock, extra)
        for line in found:
            print(f"audit: {lock}: {line}")
        vulnerable = vulnerable or bool(found)
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
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
