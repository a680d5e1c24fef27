"""Deterministic generation of an organization, and random changes to it."""

from __future__ import annotations

import random
import string
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ._catalog import APPFLOW_REGIONS, CONNECTOR_TYPES, OPT_IN_REGIONS
from ._flows import FLOWS, Flow, last_run, random_flow
from ._kinds import KINDS, Generation
from ._model import Account, Organization, OrganizationalUnit, ScopeKey
from ._profiles import PROFILES, Profile, make_name, make_profile

# Rough popularity, so generated data looks like a real fleet (Salesforce everywhere).
_TYPE_WEIGHTS = {
    "Salesforce": 20, "Redshift": 8, "Snowflake": 8, "S3": 6, "CustomConnector": 8,
    "SAPOData": 6, "Marketo": 4, "Zendesk": 4, "Servicenow": 4, "Slack": 3, "Pardot": 3,
    "Googleanalytics": 3, "Datadog": 2, "Dynatrace": 2, "Veeva": 2, "Amplitude": 2,
    "Singular": 1, "Trendmicro": 1, "Infornexus": 1, "Honeycode": 1, "EventBridge": 2,
    "LookoutMetrics": 1, "Upsolver": 1, "CustomerProfiles": 2,
}  # fmt: skip

_INACTIVE_STATES = ("SUSPENDED", "CLOSED", "PENDING_CLOSURE", "PENDING_ACTIVATION")

# OUs active members live in; Prod twice, as it holds most workloads.
_ACTIVE_HOMES = ("Prod", "Prod", "Staging", "Dev", "Security", "Shared", "Network", "Sandbox")

_ORG_CREATED = 1_483_228_800.0  # 2017-01-01

# Two levels of OUs under the root: (level-1 name, level-2 names).
_OU_TREE = (
    ("Security", ()),
    ("Infrastructure", ("Shared", "Network")),
    ("Workloads", ("Prod", "Staging", "Dev")),
    ("Sandbox", ()),
    ("Suspended", ()),
)


@dataclass
class MutationSummary:
    """ARNs changed by `mutate`: profiles, then flows."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    flows_created: list[str] = field(default_factory=list)
    flows_updated: list[str] = field(default_factory=list)
    flows_deleted: list[str] = field(default_factory=list)
    flows_ran: list[str] = field(default_factory=list)
    """Flows that ran (their last run changed) without being changed."""

    def as_dict(self) -> dict[str, list[str]]:
        """JSON-friendly form."""
        return {
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "flows_created": self.flows_created,
            "flows_updated": self.flows_updated,
            "flows_deleted": self.flows_deleted,
            "flows_ran": self.flows_ran,
        }


def _lower_alnum(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(length))


def _account_ids(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """Unique 12-digit ids; about a fifth have leading zeros, as real ones do."""
    ids: list[str] = []
    while len(ids) < count:
        digits = rng.choice((9, 10, 11)) if rng.random() < 0.2 else 12
        candidate = f"{rng.randrange(10 ** (digits - 1), 10**digits):012d}"
        if candidate not in taken:
            taken.add(candidate)
            ids.append(candidate)
    return ids


def _build_ous(rng: random.Random, org: Organization) -> dict[str, str]:
    """Create the OU tree; returns OU name -> id."""
    prefix = org.root_id.removeprefix("r-")
    by_name: dict[str, str] = {}
    for name, children in _OU_TREE:
        ou = OrganizationalUnit(f"ou-{prefix}-{_lower_alnum(rng, 8)}", name, org.root_id)
        org.organizational_units[ou.id] = ou
        by_name[name] = ou.id
        for child in children:
            sub = OrganizationalUnit(f"ou-{prefix}-{_lower_alnum(rng, 8)}", child, ou.id)
            org.organizational_units[sub.id] = sub
            by_name[child] = sub.id
    return by_name


def _opt_ins(rng: random.Random, opt_in_fraction: float) -> set[str]:
    enabled = {"af-south-1"} if rng.random() < opt_in_fraction else set()
    if rng.random() < 0.2:
        enabled |= set(rng.sample(OPT_IN_REGIONS[1:], 2))
    return enabled


def _management(org: Organization) -> Account:
    return Account(
        org.management_account_id,
        "management",
        "aws-management@example.com",
        org.root_id,
        joined_method="INVITED",
        joined_timestamp=_ORG_CREATED,
    )


def _member(
    rng: random.Random, account_id: str, index: int, parent: str, state: str, opt_in: float
) -> Account:
    name = f"{rng.choice(('payments', 'data', 'web', 'ml', 'ops', 'crm'))}-{index:03d}"
    return Account(
        account_id,
        name,
        f"aws+{name}@example.com",
        parent,
        state=state,
        joined_method=rng.choice(("CREATED", "CREATED", "INVITED")),
        joined_timestamp=round(_ORG_CREATED + rng.uniform(0, 250_000_000), 3),
        enabled_opt_in_regions=_opt_ins(rng, opt_in),
    )


def _add_accounts(
    rng: random.Random, org: Organization, count: int, inactive: int, opt_in: float
) -> None:
    """The management account, then members; the last `inactive` ones are not ACTIVE."""
    ous = _build_ous(rng, org)
    homes = [org.root_id, *(ous[name] for name in _ACTIVE_HOMES)]
    org.add_account(_management(org))
    ids = _account_ids(rng, max(count - 1, 0), {org.management_account_id})
    first_inactive = len(ids) - inactive
    for index, account_id in enumerate(ids):
        parent, state = rng.choice(homes), "ACTIVE"
        if index >= first_inactive:
            state = _INACTIVE_STATES[(index - first_inactive) % len(_INACTIVE_STATES)]
            parent = ous["Suspended"]
        org.add_account(_member(rng, account_id, index, parent, state, opt_in))


def _unique_name(rng: random.Random, connector_type: str, taken: set[str]) -> str:
    name = make_name(rng, connector_type)
    base, counter = name[:250], 2
    while name in taken:
        name, counter = f"{base}-{counter}", counter + 1
    taken.add(name)
    return name


def _pick_type(rng: random.Random, ordinal: int) -> str:
    # The first 24 profiles of an org take each type once, so small orgs still cover all.
    if ordinal < len(CONNECTOR_TYPES):
        return CONNECTOR_TYPES[ordinal]
    return rng.choices(list(_TYPE_WEIGHTS), weights=list(_TYPE_WEIGHTS.values()))[0]


def _fill_scope(
    rng: random.Random, org: Organization, key: ScopeKey, count: int, ordinal: int
) -> int:
    account, region = key
    taken: set[str] = set()
    for _ in range(count):
        connector_type = _pick_type(rng, ordinal)
        name = _unique_name(rng, connector_type, taken)
        org.put(PROFILES, account, region, make_profile(connector_type, name, account, region, rng))
        ordinal += 1
    return ordinal


def generate_organization(
    seed: int,
    accounts: int = 50,
    *,
    empty_fraction: float = 0.85,
    profiles_per_scope: tuple[int, int] = (1, 120),
    regions: Sequence[str] = APPFLOW_REGIONS,
    inactive_accounts: int = 0,
    short_page_fraction: float = 0.1,
    opt_in_fraction: float = 0.3,
    management_account_id: str = "111122223333",
    member_role_name: str = "AppFlowInventoryReader",
    required_external_id: str | None = None,
    flows_per_profile: float = 0.5,
    missing_profile_fraction: float = 0.1,
) -> Organization:
    """An organization of `accounts` accounts (management included), the same for a seed.

    Each enabled (account, region) of `regions` is empty with probability `empty_fraction`,
    else holds a count drawn from `profiles_per_scope` skewed towards small scopes. A
    `short_page_fraction` of the non-empty scopes answer with short pages (of profiles).
    Each scope with profiles holds about `flows_per_profile` flows per profile, between its
    profiles or S3; each end names a profile that does not exist with probability
    `missing_profile_fraction`. Every kind besides profiles comes from a random source of
    its own (`_kinds.KINDS`), so the profiles of a seed are the same whatever the others.
    """
    rng = random.Random(seed)
    org = Organization(
        id=f"o-{_lower_alnum(rng, 10)}",
        management_account_id=management_account_id,
        member_role_name=member_role_name,
        required_external_id=required_external_id,
        root_id=f"r-{_lower_alnum(rng, 4)}",
        regions=tuple(regions),
    )
    _add_accounts(rng, org, accounts, inactive_accounts, opt_in_fraction)
    low, high = profiles_per_scope
    ordinal = 0
    for account in list(org.accounts.values()):
        enabled = account.enabled_regions()
        for region in org.regions:
            if region not in enabled or rng.random() < empty_fraction:
                continue
            count = low + int((high - low + 1) * rng.random() ** 3)
            ordinal = _fill_scope(rng, org, (account.id, region), min(count, high), ordinal)
            if rng.random() < short_page_fraction:
                org.short_page_sizes[(account.id, region)] = rng.randint(1, 7)
    generation = Generation(flows_per_profile, missing_profile_fraction)
    for spec in KINDS:
        if spec.populate is not None:
            kind_rng = random.Random(f"{seed}-{spec.kind.name}")
            for key in org.scopes(PROFILES):
                spec.populate(org, kind_rng, key, generation)
    return org


def _revise(profile: Profile, rng: random.Random, account: str, region: str, now: float) -> Profile:
    """A changed copy of a profile (new properties or secret), updated at `now`."""
    connector_type = str(profile.get("connectorType", ""))
    name = str(profile["connectorProfileName"])
    revised = dict(profile)
    if connector_type in _TYPE_WEIGHTS:
        fresh = make_profile(connector_type, name, account, region, rng)
        revised["connectorProfileProperties"] = fresh["connectorProfileProperties"]
    if revised.get("connectorProfileProperties") == profile.get("connectorProfileProperties"):
        # Empty or unknown blocks cannot change, so rotate the secret instead.
        revised["credentialsArn"] = (
            f"arn:aws:secretsmanager:{region}:{account}:secret:appflow!{account}-"
            f"{name[:40]}-{int(now)}-{_lower_alnum(rng, 6)}"
        )
    revised["lastUpdatedAt"] = round(now, 3)
    return revised


def _existing(org: Organization) -> list[tuple[ScopeKey, Profile]]:
    return [(key, p) for key in org.scopes(PROFILES) for p in org.snapshot(PROFILES, key)[1]]


def _create(rng: random.Random, org: Organization, now: float) -> str | None:
    accounts = [a for a in org.account_list() if a.state == "ACTIVE"]
    if not accounts:
        return None
    account = rng.choice(accounts)
    regions = [r for r in org.regions if r in account.enabled_regions()]
    if not regions:
        return None
    region = rng.choice(regions)
    taken = {p["connectorProfileName"] for p in org.snapshot(PROFILES, (account.id, region))[1]}
    connector_type = _pick_type(rng, len(CONNECTOR_TYPES))
    name = _unique_name(rng, connector_type, taken)
    profile = make_profile(connector_type, name, account.id, region, rng, createdAt=round(now, 3))
    profile.pop("lastUpdatedAt", None)
    org.put(PROFILES, account.id, region, profile)
    return str(profile["connectorProfileArn"])


def mutate(
    org: Organization,
    rng: random.Random,
    *,
    creates: int = 0,
    updates: int = 0,
    deletes: int = 0,
    now: float | None = None,
    flow_creates: int = 0,
    flow_updates: int = 0,
    flow_deletes: int = 0,
    flow_runs: int = 0,
) -> MutationSummary:
    """Apply random creates, updates and deletes (on distinct profiles, then on distinct
    flows), and runs of flows that change only their last run; report the ARNs."""
    at = time.time() if now is None else now
    summary = MutationSummary()
    existing = _existing(org)
    chosen = rng.sample(existing, min(updates + deletes, len(existing)))
    for (account, region), profile in chosen[:updates]:
        org.put(PROFILES, account, region, _revise(profile, rng, account, region, at))
        summary.updated.append(str(profile["connectorProfileArn"]))
    for (account, region), profile in chosen[updates:]:
        org.delete(PROFILES, account, region, str(profile["connectorProfileName"]))
        summary.deleted.append(str(profile["connectorProfileArn"]))
    for _ in range(creates):
        arn = _create(rng, org, at)
        if arn is not None:
            summary.created.append(arn)
    if flow_creates or flow_updates or flow_deletes or flow_runs:
        _mutate_flows(org, rng, summary, at, flow_creates, flow_updates, flow_deletes, flow_runs)
    return summary


def _mutate_flows(
    org: Organization,
    rng: random.Random,
    summary: MutationSummary,
    at: float,
    creates: int,
    updates: int,
    deletes: int,
    runs: int,
) -> None:
    existing = [(key, flow) for key in org.scopes(FLOWS) for flow in org.snapshot(FLOWS, key)[1]]
    chosen = rng.sample(existing, min(updates + deletes + runs, len(existing)))
    for (account, region), flow in chosen[:updates]:
        org.put(FLOWS, account, region, revise_flow(flow, rng, at))
        summary.flows_updated.append(str(flow["flowArn"]))
    for (account, region), flow in chosen[updates : updates + deletes]:
        org.delete(FLOWS, account, region, str(flow["flowName"]))
        summary.flows_deleted.append(str(flow["flowArn"]))
    for (account, region), flow in chosen[updates + deletes :]:
        org.put(FLOWS, account, region, {**flow, "lastRunExecutionDetails": last_run(rng, at)})
        summary.flows_ran.append(str(flow["flowArn"]))
    scopes = org.scopes(PROFILES)
    for _ in range(creates if scopes else 0):
        account, region = rng.choice(scopes)
        taken = {str(f["flowName"]) for f in org.snapshot(FLOWS, (account, region))[1]}
        profiles = org.items(PROFILES, account, region)
        flow = random_flow(rng, account, region, profiles, taken, created=round(at, 3))
        flow["lastUpdatedAt"] = flow["createdAt"]
        org.put(FLOWS, account, region, flow)
        summary.flows_created.append(str(flow["flowArn"]))


def revise_flow(flow: Flow, rng: random.Random, now: float) -> Flow:
    """A changed copy of a flow (a new schedule or description), updated at `now`."""
    revised = dict(flow)
    revised["description"] = f"{flow.get('description') or 'flow'} (revised {int(now)})"
    revised["lastUpdatedAt"] = round(now, 3)
    revised["lastUpdatedBy"] = f"arn:aws:sts::{flow['flowArn'].split(':')[4]}:assumed-role/Ops/x"
    return revised
