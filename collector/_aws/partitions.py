"""Which regions have AppFlow, in the caller's partition, from botocore's endpoint data.

A new AppFlow region needs no release: botocore's data names it. The collector's own list is
only the fallback for the `aws` partition, should the data name none there.
"""

from __future__ import annotations

from typing import Any

from .._errors import ConfigError
from .._model.regions import APPFLOW_REGIONS

APPFLOW = "appflow"


def partition_of(arn: str) -> str:
    """The partition of an ARN (`arn:PARTITION:...`)."""
    parts = arn.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] else "aws"


def fips_regions(endpoints_data: dict[str, Any], partition: str) -> tuple[str, ...]:
    """The regions of `partition` whose AppFlow endpoint has a FIPS variant."""
    found: list[str] = []
    for entry in endpoints_data.get("partitions", []):
        if entry.get("partition") != partition:
            continue
        endpoints = entry.get("services", {}).get(APPFLOW, {}).get("endpoints", {})
        for region, endpoint in endpoints.items():
            variants = endpoint.get("variants", []) if isinstance(endpoint, dict) else []
            if any("fips" in v.get("tags", []) for v in variants):
                found.append(region)
    return tuple(sorted(found))


def appflow_regions(
    listed: list[str], partition: str, fips: bool, endpoints_data: dict[str, Any]
) -> tuple[str, ...]:
    """The AppFlow regions a run may list, or `ConfigError` if there are none."""
    regions = tuple(sorted(r for r in listed if not r.startswith("fips-")))
    if not regions and partition == "aws":
        regions = APPFLOW_REGIONS
    if not regions:
        raise ConfigError(
            f"AppFlow is not available in the AWS partition {partition!r} of these credentials"
        )
    if fips:
        with_fips = fips_regions(endpoints_data, partition)
        regions = tuple(r for r in regions if r in with_fips)
        if not regions:
            raise ConfigError(f"AppFlow has no FIPS endpoint in the partition {partition!r}")
    return regions


def check_regions(
    given: tuple[str, ...], available: tuple[str, ...], fips: bool, label: str
) -> tuple[str, ...]:
    """`given` with `all` expanded to `available`; `ConfigError` for a region not in it."""
    if given == ("all",):
        return available
    for region in given:
        if region not in available:
            what = "an AppFlow region with a FIPS endpoint" if fips else "an AppFlow region"
            raise ConfigError(
                f"{label}: region {region!r} is not {what} (known: {', '.join(available)})"
            )
    return given
