"""What each run stored: the profile ARNs in its SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .baseline import FLOWS_TABLE, TABLE

BASELINE_QUERY = f"SELECT arn FROM {TABLE}"
COLLECTOR_QUERY = "SELECT connector_profile_arn FROM connector_profiles WHERE deleted_at IS NULL"
BASELINE_FLOWS_QUERY = f"SELECT arn FROM {FLOWS_TABLE}"
COLLECTOR_FLOWS_QUERY = "SELECT flow_arn FROM flows WHERE deleted_at IS NULL"


def _arns(database: Path, query: str) -> frozenset[str]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return frozenset(str(row[0]) for row in connection.execute(query))
    finally:
        connection.close()


def baseline_arns(database: Path) -> frozenset[str]:
    """ARNs in the baseline's table."""
    return _arns(database, BASELINE_QUERY)


def collector_arns(database: Path) -> frozenset[str]:
    """ARNs of the collector's current (not deleted) profiles."""
    return _arns(database, COLLECTOR_QUERY)


def baseline_flow_arns(database: Path) -> frozenset[str]:
    """Flow ARNs in the baseline's flows table."""
    return _arns(database, BASELINE_FLOWS_QUERY)


def collector_flow_arns(database: Path) -> frozenset[str]:
    """ARNs of the collector's current (not deleted) flows."""
    return _arns(database, COLLECTOR_FLOWS_QUERY)


def compare(expected: frozenset[str], found: frozenset[str], label: str) -> str | None:
    """None if the sets are equal, else a short description of the difference."""
    if expected == found:
        return None
    missing, extra = sorted(expected - found), sorted(found - expected)
    return (
        f"{label}: {len(missing)} ARNs missing (e.g. {missing[:3]}), "
        f"{len(extra)} unexpected (e.g. {extra[:3]})"
    )
