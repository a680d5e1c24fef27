"""The simulated organization: accounts, OUs, and AppFlow resources per (account, region).

Every kind of resource (`Kind`: connector profiles, flows, ...) is stored the same way, as
the raw wire JSON dicts AppFlow would send. The organization is read by the server thread
and changed by test code on another thread, so every access to the store goes through one
lock, and stored dicts are never changed in place (a change replaces the dict), which lets
the server serialize a snapshot outside the lock.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from ._catalog import APPFLOW_REGIONS, CONNECTOR_TYPES, DEFAULT_REGIONS, OPT_IN_REGIONS
from ._governance import ExplicitDeny

ScopeKey = tuple[str, str]
"""(account id, region)."""

ACCOUNT_STATES = ("ACTIVE", "SUSPENDED", "PENDING_CLOSURE", "CLOSED", "PENDING_ACTIVATION")

# The retired `Status` field is still sent; AWS derives it from `State` this way.
_STATUS_FOR_STATE = {
    "ACTIVE": "ACTIVE",
    "SUSPENDED": "SUSPENDED",
    "PENDING_CLOSURE": "PENDING_CLOSURE",
    "CLOSED": "SUSPENDED",
    "PENDING_ACTIVATION": "ACTIVE",
}


def _copy(document: dict[str, Any]) -> dict[str, Any]:
    # Items are JSON documents; a JSON round trip copies them faster than deepcopy.
    copied: dict[str, Any] = json.loads(json.dumps(document))
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
    member_role: bool = True
    """Whether the member role exists here (a service-managed StackSet skips the management
    account: it has none)."""

    @property
    def status(self) -> str:
        """The retired `Status` value AWS still sends alongside `State`."""
        return _STATUS_FOR_STATE.get(self.state, "ACTIVE")

    def enabled_regions(self) -> set[str]:
        """Default regions plus the opt-in regions this account enabled."""
        return set(DEFAULT_REGIONS) | (self.enabled_opt_in_regions & set(OPT_IN_REGIONS))


@dataclass(frozen=True)
class Kind:
    """One AppFlow resource the simulated accounts hold: how its items are named."""

    name: str
    name_key: str
    """The member naming an item within its scope (`connectorProfileName`)."""
    arn_key: str
    """The member holding its ARN (`connectorProfileArn`)."""
    arn_type: str
    """The resource type in its ARN (`connectorprofile`)."""

    def arn(self, account_id: str, region: str, name: str) -> str:
        return f"arn:aws:appflow:{region}:{account_id}:{self.arn_type}/{name}"


@dataclass
class _Scope:
    items: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """Kind name -> item name -> item, in the order the API lists them."""
    version: int = 0

    def of(self, kind: Kind) -> dict[str, dict[str, Any]]:
        return self.items.setdefault(kind.name, {})


@dataclass
class Organization:
    """An AWS organization with its accounts and, per (account, region), their AppFlow
    resources (connector profiles, flows, ...), each kind stored the same way."""

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
    policies: list[ExplicitDeny] = field(default_factory=list)
    """The organization's guardrails: explicit denies of its SCPs and RCPs."""
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

    def remove_account(self, account_id: str) -> Account | None:
        """An account leaves the organization (its resources stay where they are)."""
        with self._lock:
            return self.accounts.pop(account_id, None)

    def account_list(self) -> list[Account]:
        """The accounts, in the order they were added."""
        with self._lock:
            return list(self.accounts.values())

    def ou_list(self) -> list[OrganizationalUnit]:
        """The OUs, parents before children."""
        with self._lock:
            return list(self.organizational_units.values())

    def denying(self, account_id: str, action: str, region: str) -> ExplicitDeny | None:
        """The guardrail that denies `action` (`appflow:ListFlows`) to `account_id` in
        `region`, if any; the management account is never denied, as AWS exempts it."""
        if account_id == self.management_account_id:
            return None
        with self._lock:
            policies = list(self.policies)
        return next((p for p in policies if p.denies(account_id, action, region)), None)

    def put(self, kind: Kind, account_id: str, region: str, item: dict[str, Any]) -> None:
        """Create an item, or replace the one with the same name keeping its position; its
        ARN is made from its name if it has none."""
        stored = _copy(item)
        name = stored[kind.name_key]
        stored.setdefault(kind.arn_key, kind.arn(account_id, region, name))
        with self._lock:
            scope = self._scopes.setdefault((account_id, region), _Scope())
            scope.of(kind)[name] = stored
            if isinstance(stored.get("connectorType"), str):
                # AWS adds connector types; a type anything stored uses is one it knows.
                self._known_types.add(stored["connectorType"])
            self._touch(scope)

    def delete(self, kind: Kind, account_id: str, region: str, name: str) -> bool:
        """Delete an item by name; False if there was none."""
        with self._lock:
            scope = self._scopes.get((account_id, region))
            if scope is None or scope.of(kind).pop(name, None) is None:
                return False
            self._touch(scope)
            return True

    def items(self, kind: Kind, account_id: str, region: str) -> list[dict[str, Any]]:
        """Copies of the items of one scope, in the order the API lists them."""
        return [_copy(item) for item in self.snapshot(kind, (account_id, region))[1]]

    def item(self, kind: Kind, account_id: str, region: str, name: str) -> dict[str, Any] | None:
        """A copy of one item, by name; None if there is none."""
        with self._lock:
            scope = self._scopes.get((account_id, region))
            found = scope.of(kind).get(name) if scope else None
        return None if found is None else _copy(found)

    def scopes(self, kind: Kind) -> list[ScopeKey]:
        """Every (account, region) that holds at least one item of `kind`."""
        with self._lock:
            return [key for key, scope in self._scopes.items() if scope.items.get(kind.name)]

    def all_items(self, kind: Kind) -> list[tuple[ScopeKey, dict[str, Any]]]:
        """Copies of every item of `kind`, with its scope."""
        with self._lock:
            pairs = [
                (key, item)
                for key, scope in self._scopes.items()
                for item in scope.items.get(kind.name, {}).values()
            ]
        return [(key, _copy(item)) for key, item in pairs]

    def snapshot(self, kind: Kind, key: ScopeKey) -> tuple[int, tuple[dict[str, Any], ...]]:
        """(version, items of `kind`) of one scope; the dicts are shared, never change them."""
        with self._lock:
            scope = self._scopes.get(key)
            if scope is None:
                return 0, ()
            return scope.version, tuple(scope.items.get(kind.name, {}).values())

    def known_connector_types(self) -> set[str]:
        """The 24 API types plus any other type stored (AWS adds types over time)."""
        with self._lock:
            return set(self._known_types)

    def version_of(self, key: ScopeKey) -> int:
        """A number that changes whenever the scope changes (0: never written)."""
        with self._lock:
            scope = self._scopes.get(key)
            return scope.version if scope else 0

    def _touch(self, scope: _Scope) -> None:
        # A counter shared by all scopes, so a re-created scope never reuses a version.
        self._version += 1
        scope.version = self._version
