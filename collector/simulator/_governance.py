"""An organization's guardrails: explicit denies in service control policies (SCPs) and
resource control policies (RCPs), such as AWS Control Tower's region deny.

A deny names the actions it covers (`appflow:*`, `appflow:ListFlows`, `*`), the regions it
applies in (none: every region) and the member accounts it applies to (none: every one),
and exempts the global services Control Tower's region deny exempts. AWS never applies them
to the management account. A denied call is answered in its service's own words, with the
message AWS gives an explicit deny.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from ._protocols import APPFLOW, EC2, ORGANIZATIONS, STS, SimError

# Control Tower's region deny exempts global services (its NotAction list); of the services
# simulated, STS and Organizations.
EXEMPT_SERVICES = frozenset({STS, ORGANIZATIONS})

# How each service answers a denied call: (code, HTTP status).
_DENIED = {
    APPFLOW: ("AccessDeniedException", 403),
    STS: ("AccessDenied", 403),
    ORGANIZATIONS: ("AccessDeniedException", 400),
    EC2: ("UnauthorizedOperation", 403),
}


@dataclass(frozen=True)
class ExplicitDeny:
    """One explicit deny statement of an organization policy."""

    actions: frozenset[str] = frozenset({"*"})
    regions: frozenset[str] = frozenset()
    """The regions it denies in (empty: every region)."""
    accounts: frozenset[str] = frozenset()
    """The member accounts it applies to (empty: every member account)."""
    resource_policy: bool = False
    """A resource control policy rather than a service control policy."""

    def denies(self, account_id: str, action: str, region: str) -> bool:
        if action.split(":", 1)[0] in EXEMPT_SERVICES:
            return False
        if self.accounts and account_id not in self.accounts:
            return False
        if self.regions and region not in self.regions:
            return False
        return any(fnmatch.fnmatchcase(action, pattern) for pattern in self.actions)


def region_deny(denied: frozenset[str]) -> ExplicitDeny:
    """Control Tower's region deny: every non-global action, in the regions not allowed."""
    return ExplicitDeny(regions=denied)


def denial(service: str, principal: str, action: str, resource_policy: bool) -> SimError:
    """The error AWS answers a call an organization policy denies explicitly."""
    code, status = _DENIED[service]
    kind = "resource control policy" if resource_policy else "service control policy"
    message = (
        f"User: {principal} is not authorized to perform: {action} "
        f"with an explicit deny in a {kind}"
    )
    return SimError(code, message, status)


def missing_permission(service: str, principal: str, action: str) -> SimError:
    """The error AWS answers a call no identity-based policy of the caller allows."""
    code, status = _DENIED[service]
    message = (
        f"User: {principal} is not authorized to perform: {action} "
        f"because no identity-based policy allows the {action} action"
    )
    return SimError(code, message, status)
