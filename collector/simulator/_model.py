"""The simulated organization: accounts, OUs, and connector profiles and flows per (account,
region).

Profiles and flows are stored as the raw wire JSON dicts AppFlow would send. The organization
is read by the server thread and changed by test code on another thread, so every access to the
profile store goes through one lock, and stored dicts are never changed in place (a change
replaces the dict), which lets the server serialize a snapshot outside the lock.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from ._catalog import APPFLOW_REGIONS, CONNECTOR_TYPES, DEFAULT_REGIONS, OPT_IN_REGIONS

ScopeKey = tuple[str, str]
"""(account id, region)."""

Profile = dict[str, Any]
"""One connector profile as AppFlow sends it (timestamps are epoch floats)."""

Flow = dict[str, Any]
"""One flow: its `DescribeFlow` answer plus the fields only its `ListFlows` definition has
(`sourceConnectorType`, ..., `triggerType`); see `flow_definition` and `flow_description`."""

# FlowDefinition's members (botocore's appflow model), in the model's order.
FLOW_DEFINITION_KEYS = (
    "flowArn",
    "description",
    "flowName",
    "flowStatus",
    "sourceConnectorType",
    "sourceConnectorLabel",
    "destinationConnectorType",
    "destinationConnectorLabel",
    "triggerType",
    "createdAt",
    "lastUpdatedAt",
    "createdBy",
    "lastUpdatedBy",
    "tags",
    "lastRunExecutionDetails",
)
# Members of FlowDefinition that DescribeFlowResponse does not have.
_DEFINITION_ONLY = frozenset(
    {
        "sourceConnectorType",
        "sourceConnectorLabel",
        "destinationConnectorType",
        "destinationConnectorLabel",
        "triggerType",
    }
)


def flow_definition(flow: Flow) -> Flow:
    """The flow as `ListFlows` lists it."""
    return {key: flow[key] for key in FLOW_DEFINITION_KEYS if key in flow}


def flow_description(flow: Flow) -> Flow:
    """The flow as `DescribeFlow` answers."""
    return {key: value for key, value in flow.items() if key not in _DEFINITION_ONLY}


ACCOUNT_STATES = ("ACTIVE", "SUSPENDED", "PENDING_CLOSURE", "CLOSED", "PENDING_ACTIVATION")

# The retired `Status` field is still sent; AWS derives it from `State` this way.
_STATUS_FOR_STATE = {
    "ACTIVE": "ACTIVE",
    "SUSPENDED": "SUSPENDED",
    "PENDING_CLOSURE": "PENDING_CLOSURE",
    "CLOSED": "SUSPENDED",
    "PENDING_ACTIVATION": "ACTIVE",
}


def _copy(document: Profile) -> Profile:
    # Profiles are JSON documents; a JSON round trip copies them faster than deepcopy.
    copied: Profile = json.loads(json.dumps(document))
    return copied


@dataclass
class OrganizationalUnit:
    """An OU; `parent_id` is the root id or another OU's id."""

    id: str
    name: str
    parent_id: str


@dataclass
class Account:
    """A member (or the management) account of the organization."""

    id: str
    name: str
    email: str
    parent_id: str
    state: str = "ACTIVE"
    joined_method: str = "CREATED"
    joined_timestamp: float = 1_577_836_800.0
    enabled_opt_in_regions: set[str] = field(default_factory=set)

    @property
    def status(self) -> str:
        """The retired `Status` value AWS still sends alongside `State`."""
        return _STATUS_FOR_STATE.get(self.state, "ACTIVE")

    def enabled_regions(self) -> set[str]:
        """Default regions plus the opt-in regions this account enabled."""
        return set(DEFAULT_REGIONS) | (self.enabled_opt_in_regions & set(OPT_IN_REGIONS))


@dataclass
class _Scope:
    profiles: dict[str, Profile] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    version: int = 0


@dataclass
class Organization:
    """An AWS organization with its accounts and their connector profiles."""

    id: str = "o-a1b2c3d4e5"
    management_account_id: str = "111122223333"
    member_role_name: str = "AppFlowInventoryReader"
    organization_role_name: str | None = None
    """A role in the management account that alone may make the Organizations calls, as a
    collector running in another account does (None: the base credentials make them)."""
    member_role_path: str = "/"
    """The IAM path of the member role (`/team/` for `role/team/AppFlowInventoryReader`)."""
    required_external_id: str | None = None
    role_max_session_seconds: int = 3600
    """IAM's default MaxSessionDuration: AssumeRole asking for more is refused."""
    partition: str = "aws"
    """The partition named by the ARNs STS hands out (aws-us-gov, aws-cn, ...)."""
    root_id: str = "r-ab12"
    regions: tuple[str, ...] = APPFLOW_REGIONS
    organizational_units: dict[str, OrganizationalUnit] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    short_page_sizes: dict[ScopeKey, int] = field(default_factory=dict)
    """Scopes whose pages hold at most this many profiles, whatever `maxResults` asks."""
    _scopes: dict[ScopeKey, _Scope] = field(default_factory=dict, init=False, repr=False)
    _known_types: set[str] = field(
        default_factory=lambda: set(CONNECTOR_TYPES), init=False, repr=False
    )
    _lock: threading.RLock = field(
        default_factory=threading.RLock, init=False, repr=False, compare=False
    )
    _version: int = field(default=0, init=False, repr=False)

    @property
    def management_account(self) -> Account:
        """The management account (its `Account` entry)."""
        return self.accounts[self.management_account_id]

    def add_account(self, account: Account) -> None:
        """Add or replace an account."""
        with self._lock:
            self.accounts[account.id] = account

    def account_list(self) -> list[Account]:
        """The accounts, in the order they were added."""
        with self._lock:
            return list(self.accounts.values())

    def ou_list(self) -> list[OrganizationalUnit]:
        """The OUs, parents before children."""
        with self._lock:
            return list(self.organizational_units.values())

    def profiles(self, account_id: str, region: str) -> list[Profile]:
        """Copies of the profiles of one scope, in the order the API returns them."""
        with self._lock:
            scope = self._scopes.get((account_id, region))
            stored = list(scope.profiles.values()) if scope else []
        return [_copy(profile) for profile in stored]

    def put_profile(self, account_id: str, region: str, profile: Profile) -> None:
        """Create a profile, or replace the one with the same name keeping its position."""
        stored = _copy(profile)
        name = stored["connectorProfileName"]
        stored.setdefault(
            "connectorProfileArn",
            f"arn:aws:appflow:{region}:{account_id}:connectorprofile/{name}",
        )
        with self._lock:
            scope = self._scopes.setdefault((account_id, region), _Scope())
            scope.profiles[name] = stored
            if isinstance(stored.get("connectorType"), str):
                self._known_types.add(stored["connectorType"])
            self._touch(scope)

    def delete_profile(self, account_id: str, region: str, name: str) -> bool:
        """Delete a profile by name; False if there was none."""
        with self._lock:
            scope = self._scopes.get((account_id, region))
            if scope is None or scope.profiles.pop(name, None) is None:
                return False
            self._touch(scope)
            return True

    def flows(self, account_id: str, region: str) -> list[Flow]:
        """Copies of the flows of one scope, in the order `ListFlows` returns them."""
        with self._lock:
            scope = self._scopes.get((account_id, region))
            stored = list(scope.flows.values()) if scope else []
        return [_copy(flow) for flow in stored]

    def flow(self, account_id: str, region: str, name: str) -> Flow | None:
        """A copy of one flow, by name; None if there is none."""
        with self._lock:
            scope = self._scopes.get((account_id, region))
            found = scope.flows.get(name) if scope else None
        return None if found is None else _copy(found)

    def put_flow(self, account_id: str, region: str, flow: Flow) -> None:
        """Create a flow, or replace the one with the same name keeping its position."""
        stored = _copy(flow)
        name = stored["flowName"]
        stored.setdefault("flowArn", f"arn:aws:appflow:{region}:{account_id}:flow/{name}")
        with self._lock:
            scope = self._scopes.setdefault((account_id, region), _Scope())
            scope.flows[name] = stored
            self._touch(scope)

    def delete_flow(self, account_id: str, region: str, name: str) -> bool:
        """Delete a flow by name; False if there was none."""
        with self._lock:
            scope = self._scopes.get((account_id, region))
            if scope is None or scope.flows.pop(name, None) is None:
                return False
            self._touch(scope)
            return True

    def flow_scopes(self) -> list[ScopeKey]:
        """Every (account, region) that holds at least one flow."""
        with self._lock:
            return [key for key, scope in self._scopes.items() if scope.flows]

    def all_flows(self) -> list[tuple[ScopeKey, Flow]]:
        """Copies of every flow with its scope."""
        with self._lock:
            pairs = [(k, f) for k, s in self._scopes.items() for f in s.flows.values()]
        return [(key, _copy(flow)) for key, flow in pairs]

    def flow_snapshot(self, key: ScopeKey) -> tuple[int, tuple[Flow, ...]]:
        """(version, flows) of one scope; the dicts are shared, never change them."""
        with self._lock:
            scope = self._scopes.get(key)
            if scope is None:
                return 0, ()
            return scope.version, tuple(scope.flows.values())

    def scopes(self) -> list[ScopeKey]:
        """Every (account, region) that holds at least one profile."""
        with self._lock:
            return [key for key, scope in self._scopes.items() if scope.profiles]

    def all_profiles(self) -> list[tuple[ScopeKey, Profile]]:
        """Copies of every profile with its scope."""
        with self._lock:
            pairs = [(k, p) for k, s in self._scopes.items() for p in s.profiles.values()]
        return [(key, _copy(profile)) for key, profile in pairs]

    def known_connector_types(self) -> set[str]:
        """The 24 API types plus any other type stored (AWS adds types over time)."""
        with self._lock:
            return set(self._known_types)

    def snapshot(self, key: ScopeKey) -> tuple[int, tuple[Profile, ...]]:
        """(version, profiles) of one scope; the dicts are shared, never change them."""
        with self._lock:
            scope = self._scopes.get(key)
            if scope is None:
                return 0, ()
            return scope.version, tuple(scope.profiles.values())

    def version_of(self, key: ScopeKey) -> int:
        """A number that changes whenever the scope changes (0: never written)."""
        with self._lock:
            scope = self._scopes.get(key)
            return scope.version if scope else 0

    def _touch(self, scope: _Scope) -> None:
        # A counter shared by all scopes, so a re-created scope never reuses a version.
        self._version += 1
        scope.version = self._version
