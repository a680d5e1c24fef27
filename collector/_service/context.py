"""One run's collaborators, handed as one object to the steps of a collection pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .._aws import Aws
from .._config import Settings
from .._model.run import RunResult
from .._model.scopes import ScopeOutcome
from .._store import Store


class RunObserver(Protocol):
    """Told about a run's progress, e.g. to draw a progress line."""

    def planned(self, scopes: int) -> None: ...

    def finished(self, outcome: ScopeOutcome) -> None: ...


@dataclass(slots=True)
class Run:
    """A collection pass under way: what it was asked, what it talks to, what it found."""

    settings: Settings
    aws: Aws
    store: Store
    result: RunResult
    now: Callable[[], datetime]
    observer: RunObserver | None = None
