"""Request counters, written by the server thread and read by tests."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from ._model import ScopeKey

DROPPED = 0
"""Status recorded for a connection closed without an answer."""


class Stats:
    """Requests per (service, operation), per status, per AppFlow scope, and per AppFlow
    scope and operation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.operations: Counter[tuple[str, str]] = Counter()
        self.statuses: Counter[int] = Counter()
        self.scopes: Counter[ScopeKey] = Counter()
        self.scope_operations: Counter[tuple[ScopeKey, str]] = Counter()

    def record(self, service: str, operation: str, status: int, scope: ScopeKey | None) -> None:
        """Count one request."""
        with self._lock:
            self.operations[(service, operation)] += 1
            self.statuses[status] += 1
            if scope is not None:
                self.scopes[scope] += 1
                self.scope_operations[(scope, operation)] += 1

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self.operations.clear()
            self.statuses.clear()
            self.scopes.clear()
            self.scope_operations.clear()

    def count(self, service: str, operation: str | None = None) -> int:
        """Requests to a service, or to one of its operations."""
        with self._lock:
            return sum(
                n
                for (svc, op), n in self.operations.items()
                if svc == service and operation in (None, op)
            )

    def scope_count(self, scope: ScopeKey, operation: str) -> int:
        """AppFlow requests of one operation to one scope."""
        with self._lock:
            return self.scope_operations[(scope, operation)]

    @property
    def total(self) -> int:
        """All requests counted."""
        with self._lock:
            return sum(self.statuses.values())

    def snapshot(self) -> dict[str, Any]:
        """A JSON-friendly copy: keys "service:Operation", status codes, "account/region"."""
        with self._lock:
            return {
                "total": sum(self.statuses.values()),
                "operations": {f"{s}:{o}": n for (s, o), n in sorted(self.operations.items())},
                "statuses": {str(code): n for code, n in sorted(self.statuses.items())},
                "scopes": {f"{a}/{r}": n for (a, r), n in sorted(self.scopes.items())},
            }
