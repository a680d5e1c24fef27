"""What botocore's data says of the caller's partition: its AppFlow regions, and the
connector types the AppFlow model knows."""

from __future__ import annotations

import difflib
from typing import Any

from .partitions import APPFLOW, appflow_regions, check_regions, fips_regions, region_pattern


class AwsCatalog:
    """botocore's endpoint data and AppFlow model, read for one partition."""

    def __init__(self, loader: Any, partition: str, regions: tuple[str, ...], fips: bool) -> None:
        self._loader = loader
        self._endpoints: dict[str, Any] = loader.load_data("endpoints")
        self.partition = partition
        self.regions = regions
        """The AppFlow regions of the partition (FIPS ones only under FIPS)."""
        self.fips = fips
        self.unlisted: set[str] = set()
        """Regions named that the endpoint data does not list for AppFlow, tried anyway."""

    @classmethod
    async def load(cls, session: Any, partition: str, fips: bool) -> AwsCatalog:
        loader = session.get_component("data_loader")
        listed = await session.get_available_regions(APPFLOW, partition)
        endpoints = loader.load_data("endpoints")
        regions = appflow_regions(listed, partition, fips, endpoints)
        return cls(loader, partition, regions, fips)

    def resolve_regions(self, given: tuple[str, ...], label: str = "--regions") -> tuple[str, ...]:
        """`given` with `all` expanded to this partition's AppFlow regions. A region the
        endpoint data does not list but that has the partition's form is kept (and
        remembered in `unlisted`); anything else is a `ConfigError`."""
        pattern = region_pattern(self._endpoints, self.partition)
        checked = check_regions(given, self.regions, label, fips=self.fips, pattern=pattern)
        self.unlisted |= checked.unlisted
        return checked.regions

    def has_fips(self, service: str, region: str) -> bool:
        """Whether `service` has a FIPS endpoint in `region` of this partition."""
        return region in fips_regions(self._endpoints, self.partition, service)

    def connector_type_hint(self, connector_type: str) -> str | None:
        """None if botocore's model knows `connector_type`; else the closest known name
        (or an empty string if none is close)."""
        model = self._loader.load_service_model(APPFLOW, "service-2")
        known: list[str] = list(model.get("shapes", {}).get("ConnectorType", {}).get("enum", []))
        if not known or connector_type in known:
            return None
        by_lower = {k.lower(): k for k in known}
        close = difflib.get_close_matches(connector_type.lower(), list(by_lower), n=1, cutoff=0.6)
        return by_lower[close[0]] if close else ""
