"""Unauthenticated `/_sim/...` endpoints for driving a simulator in another process.

- `GET /_sim/stats`: request counts (see `Stats.snapshot`).
- `POST /_sim/reset-stats`: zero the counts.
- `POST /_sim/mutate` `{"seed", "creates", "updates", "deletes"}`: random profile changes;
  answers the changed ARNs.
- `POST /_sim/faults`: set fault knobs from a JSON object (see `apply_faults`).
"""

from __future__ import annotations

import json
import random
from typing import Any

from ._context import ServerState
from ._faults import Faults
from ._generate import mutate
from ._protocols import Reply

_SCALAR_FAULTS = (
    "latency",
    "latency_jitter",
    "error_rate_500",
    "error_rate_429",
    "drop_rate",
    "malformed_json_rate",
    "slow_seconds",
)


def _json(document: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(document).encode(), "application/json")


def apply_faults(faults: Faults, settings: dict[str, Any]) -> None:
    """Set knobs: the scalar rates and delays, `seed`, `failing_scopes` as
    `[[account, region, code], ...]`, `slow_scopes` as `[[account, region], ...]` and
    `deny_assume_role` as a list of account ids.
    """
    for name in _SCALAR_FAULTS:
        if name in settings:
            setattr(faults, name, float(settings[name]))
    if "seed" in settings:
        faults.reseed(int(settings["seed"]))
    if "failing_scopes" in settings:
        faults.failing_scopes = {(a, r): code for a, r, code in settings["failing_scopes"]}
    if "slow_scopes" in settings:
        faults.slow_scopes = {(a, r) for a, r in settings["slow_scopes"]}
    if "deny_assume_role" in settings:
        faults.deny_assume_role = set(settings["deny_assume_role"])


def _mutate(state: ServerState, body: bytes) -> Reply:
    spec = json.loads(body or b"{}")
    summary = mutate(
        state.org,
        random.Random(int(spec.get("seed", 0))),
        creates=int(spec.get("creates", 0)),
        updates=int(spec.get("updates", 0)),
        deletes=int(spec.get("deletes", 0)),
        now=state.clock(),
    )
    return _json(summary.as_dict())


def handle_control(state: ServerState, method: str, path: str, body: bytes) -> Reply:
    """Answer one control request."""
    try:
        if method == "GET" and path == "/_sim/stats":
            return _json(state.stats.snapshot())
        if method == "POST" and path == "/_sim/reset-stats":
            state.stats.reset()
            return _json({"reset": True})
        if method == "POST" and path == "/_sim/mutate":
            return _mutate(state, body)
        if method == "POST" and path == "/_sim/faults":
            apply_faults(state.faults, json.loads(body or b"{}"))
            return _json({"applied": True})
    except (ValueError, TypeError, KeyError) as exc:
        return _json({"error": f"bad request: {exc}"}, 400)
    return _json({"error": f"no control endpoint {method} {path}"}, 404)
