"""A local AWS endpoint for STS, Organizations, EC2 and AppFlow (connector profiles, flows,
...), for tests and benchmarks.

It speaks the wire protocols botocore uses, so the product reaches it only through the
standard `AWS_ENDPOINT_URL_<SERVICE>` variables. Data comes from a deterministic generator;
faults (latency, errors, dropped connections, broken paging) are injected on demand.

    org = generate_organization(seed=7, accounts=20)
    with Simulator(org, Faults(latency=0.08, latency_jitter=0.2)) as sim:
        subprocess.run([...], env={**os.environ, **sim.env()})
"""

from ._catalog import (
    ALL_REGIONS,
    APPFLOW_REGIONS,
    CONNECTOR_TYPES,
    DEFAULT_REGIONS,
    OPT_IN_REGIONS,
    PROPERTY_BLOCK_KEYS,
    PROPERTY_BLOCKS,
)
from ._connectors import CONNECTORS, Connector, make_connector
from ._dead import DeadEndpoint
from ._faults import Burst, Faults
from ._flows import FLOWS, End, Flow, flow_definition, flow_description, make_flow
from ._generate import MutationSummary, generate_organization, mutate, revise_flow
from ._governance import ExplicitDeny, region_deny
from ._model import Account, Kind, Organization, OrganizationalUnit, ScopeKey
from ._profiles import PROFILES, Profile, make_profile
from ._simulator import BASE_ACCESS_KEY_ID, BASE_SECRET_ACCESS_KEY, Simulator
from ._stats import Stats

__all__ = [
    "ALL_REGIONS",
    "APPFLOW_REGIONS",
    "BASE_ACCESS_KEY_ID",
    "BASE_SECRET_ACCESS_KEY",
    "CONNECTORS",
    "CONNECTOR_TYPES",
    "DEFAULT_REGIONS",
    "FLOWS",
    "OPT_IN_REGIONS",
    "PROFILES",
    "PROPERTY_BLOCKS",
    "PROPERTY_BLOCK_KEYS",
    "Account",
    "Burst",
    "Connector",
    "DeadEndpoint",
    "End",
    "ExplicitDeny",
    "Faults",
    "Flow",
    "Kind",
    "MutationSummary",
    "Organization",
    "OrganizationalUnit",
    "Profile",
    "ScopeKey",
    "Simulator",
    "Stats",
    "flow_definition",
    "flow_description",
    "generate_organization",
    "make_connector",
    "make_flow",
    "make_profile",
    "mutate",
    "region_deny",
    "revise_flow",
]
