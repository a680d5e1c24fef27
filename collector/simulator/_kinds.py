"""Every kind of AppFlow resource the simulator holds: its operations, and how a generated
organization fills a scope with it.

The generic handlers (`_appflow.py`) answer every operation here; `generate_organization`
fills each scope that holds profiles with every other kind, each from a random source of
its own, so the profiles of a seed are the same whatever the other kinds.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from ._connectors import CONNECTOR_API, CONNECTORS, add_connectors
from ._flows import FLOW_API, FLOWS, add_flows
from ._listing import DescribeOperation, ListOperation
from ._model import Kind, Organization, ScopeKey
from ._profiles import PROFILE_API, PROFILES


@dataclass(frozen=True)
class Generation:
    """The knobs of `generate_organization` that a kind's generator reads."""

    flows_per_profile: float = 0.5
    missing_profile_fraction: float = 0.1


Populate = Callable[[Organization, random.Random, ScopeKey, Generation], None]


@dataclass(frozen=True)
class KindSpec:
    """One kind: how its items are named, its operations, how a scope is filled with it."""

    kind: Kind
    api: tuple[ListOperation | DescribeOperation, ...]
    populate: Populate | None = None
    """Fills one scope that holds profiles (None: the generator's own loop fills it)."""


def _flows(org: Organization, rng: random.Random, key: ScopeKey, generation: Generation) -> None:
    if generation.flows_per_profile > 0:
        add_flows(org, rng, key, generation.flows_per_profile, generation.missing_profile_fraction)


def _connectors(
    org: Organization, rng: random.Random, key: ScopeKey, generation: Generation
) -> None:
    add_connectors(org, rng, key)


KINDS: tuple[KindSpec, ...] = (
    KindSpec(PROFILES, PROFILE_API),
    KindSpec(FLOWS, FLOW_API, _flows),
    KindSpec(CONNECTORS, CONNECTOR_API, _connectors),
)
