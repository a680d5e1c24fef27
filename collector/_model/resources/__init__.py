"""Every resource the inventory keeps, one module each.

`RESOURCES` is the order a scope lists them and a batch writes them: a resource before those
that name it, so the links of a batch resolve within it. Adding a resource is a module here
(its descriptor and normalization), an entry below, its tables and migration, and its
operations in the simulator (docs: "Adding a resource").
"""

from __future__ import annotations

from ..resource import Link, Resource
from .connectors import CONNECTORS, PROFILE_REGISTRATIONS
from .flows import FLOWS, PROFILE_LINKS
from .profiles import PROFILES

RESOURCES: tuple[Resource, ...] = (PROFILES, FLOWS, CONNECTORS)
LINKS: tuple[Link, ...] = (PROFILE_LINKS, PROFILE_REGISTRATIONS)
"""Every column naming another resource, resolved after each batch is written."""

_BY_NAME = {resource.name: resource for resource in RESOURCES}


def resource_named(name: str) -> Resource:
    """The resource called `name`; `KeyError` if there is none."""
    return _BY_NAME[name]


def resource_names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


__all__ = [
    "CONNECTORS",
    "FLOWS",
    "LINKS",
    "PROFILES",
    "RESOURCES",
    "Link",
    "Resource",
    "resource_named",
]
