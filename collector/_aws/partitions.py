"""Which regions have AppFlow, in the caller's partition, from botocore's endpoint data.

A new AppFlow region needs no release: botocore's data names it. The collector's own list is
only the fallback for the `aws` partition, should the data name none there.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass
from typing import Any

from .._errors import ConfigError
from .._model.regions import APPFLOW_REGIONS

APPFLOW = "appflow"

log = logging.getLogger("collector")


def partition_of(arn: str) -> str:
    """The partition of an ARN (`arn:PARTITION:...`)."""
    parts = arn.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] else "aws"


def fips_regions(
    endpoints_data: dict[str, Any], partition: str, service: str = APPFLOW
) -> tuple[str, ...]:
    """The regions of `partition` whose `service` endpoint has a FIPS variant."""
    found: list[str] = []
    for entry in endpoints_data.get("partitions", []):
        if entry.get("partition") != partition:
            continue
        endpoints = entry.get("services", {}).get(service, {}).get("endpoints", {})
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


def has_fips_endpoint(endpoints_data: dict[str, Any], service: str, region: str) -> bool:
    """Whether `service` has a FIPS endpoint in `region`, in whichever partition has it."""
    for entry in endpoints_data.get("partitions", []):
        pattern = entry.get("regionRegex")
        known = region in entry.get("regions", {})
        if known or (isinstance(pattern, str) and re.fullmatch(pattern, region)):
            return region in fips_regions(endpoints_data, str(entry.get("partition")), service)
    return False


def region_pattern(endpoints_data: dict[str, Any], partition: str) -> re.Pattern[str] | None:
    """What a region name of `partition` looks like (its `regionRegex`), if the data says."""
    for entry in endpoints_data.get("partitions", []):
        if entry.get("partition") == partition and isinstance(entry.get("regionRegex"), str):
            return re.compile(entry["regionRegex"])
    return None


@dataclass(frozen=True, slots=True)
class RegionCheck:
    """The regions a run lists, and those of them botocore's data does not list for AppFlow
    (tried at the partition's standard endpoint)."""

    regions: tuple[str, ...]
    unlisted: frozenset[str] = frozenset()


def check_regions(
    given: tuple[str, ...],
    available: tuple[str, ...],
    label: str,
    *,
    fips: bool = False,
    pattern: re.Pattern[str] | None = None,
) -> RegionCheck:
    """`given` with `all` expanded to `available`.

    A region named that is not in `available` but has the partition's form (`pattern`) may
    be newer than this botocore: it is tried, with a warning (and the closest known name,
    if it looks like a typo of one). Anything else, or any region missing from the data
    under FIPS, is a `ConfigError`.
    """
    if given == ("all",):
        return RegionCheck(available)
    unlisted: set[str] = set()
    for region in given:
        if region in available:
            continue
        what = "an AppFlow region with a FIPS endpoint" if fips else "an AppFlow region"
        hint = _closest(region, available)
        if fips or pattern is None or not pattern.fullmatch(region):
            raise ConfigError(
                f"{label}: region {region!r} is not {what}{hint} (known: {', '.join(available)})"
            )
        log.warning(
            "%s: region %s is not one botocore's endpoint data lists for AppFlow%s; trying "
            "appflow.%s at the partition's standard endpoint",
            label,
            region,
            hint,
            region,
            extra={"event": "unlisted_region", "region": region},
        )
        unlisted.add(region)
    return RegionCheck(given, frozenset(unlisted))


def _closest(region: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(region, known, n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else ""
