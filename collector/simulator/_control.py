"""`/_sim/...` endpoints for driving a simulator in another process: open on loopback, behind
the token printed at start (`X-Sim-Token`) when served further with `--public`.

- `GET /_sim/stats`: request counts (see `Stats.snapshot`).
- `POST /_sim/reset-stats`: zero the counts.
- `POST /_sim/mutate` `{"seed", "creates", "updates", "deletes", "flow_creates",
  "flow_updates", "flow_deletes", "flow_runs"}`: random profile and flow changes; answers
  the changed ARNs.
- `POST /_sim/faults`: set fault knobs from a JSON object (see `apply_faults`).
"""

from __future__ import annotations

import json
import random
from typing import Any

from ._context import ServerState
from ._faults import Burst, Faults
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
    `[[account, region, code], ...]`, `slow_scopes` as `[[account, region], ...]`,
    `deny_assume_role` as a list of account ids, and the real-AWS knobs: `bursts` as
    `{"organizations:ListAccounts": {"kind": "throttle", "seconds": 30}, ...}`,
    `assume_role_quota` as `{account: n}`, `empty_organization_pages` (n),
    `endless_organization_pages` and `chunked_bodies` (booleans), `omit_empty_list_scopes`
    and `overfull_page_scopes` as `[[account, region], ...]`, `deep_json_scopes` and
    `huge_body_scopes` as `[[account, region, n], ...]`, and for flows
    `paging_fault_operations` (operation names) and `vanishing_flows` (flow ARNs) as lists.
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
    _apply_real_aws(faults, settings)


def _apply_real_aws(faults: Faults, settings: dict[str, Any]) -> None:
    if "bursts" in settings:
        faults.bursts = {key: Burst(**spec) for key, spec in settings["bursts"].items()}
    if "assume_role_quota" in settings:
        faults.assume_role_quota = {
            str(a): int(n) for a, n in settings["assume_role_quota"].items()
        }
    if "empty_organization_pages" in settings:
        faults.empty_organization_pages = int(settings["empty_organization_pages"])
    for flag in ("endless_organization_pages", "chunked_bodies"):
        if flag in settings:
            setattr(faults, flag, bool(settings[flag]))
    for name in ("omit_empty_list_scopes", "overfull_page_scopes"):
        if name in settings:
            setattr(faults, name, {(a, r) for a, r in settings[name]})
    for name in ("deep_json_scopes", "huge_body_scopes"):
        if name in settings:
            setattr(faults, name, {(a, r): int(n) for a, r, n in settings[name]})
    for name in ("paging_fault_operations", "vanishing_flows"):
        if name in settings:
            setattr(faults, name, {str(item) for item in settings[name]})


def _mutate(state: ServerState, body: bytes) -> Reply:
    spec = json.loads(body or b"{}")
    summary = mutate(
        state.org,
        random.Random(int(spec.get("seed", 0))),
        creates=int(spec.get("creates", 0)),
        updates=int(spec.get("updates", 0)),
        deletes=int(spec.get("deletes", 0)),
        now=state.clock(),
        flow_creates=int(spec.get("flow_creates", 0)),
        flow_updates=int(spec.get("flow_updates", 0)),
        flow_deletes=int(spec.get("flow_deletes", 0)),
        flow_runs=int(spec.get("flow_runs", 0)),
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
