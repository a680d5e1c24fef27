"""What botocore's data says of the caller's partition: its AppFlow regions, and the
connector types the AppFlow model knows."""

from __future__ import annotations

import difflib
from typing import Any

from .partitions import APPFLOW, appflow_regions, check_regions


class AwsCatalog:
    """botocore's endpoint data and AppFlow model, read for one partition."""

    def __init__(self, loader: Any, regions: tuple[str, ...], fips: bool) -> None:
        self._loader = loader
        self.regions = regions
        """The AppFlow regions of the partition (FIPS ones only under FIPS)."""
        self.fips = fips

    @classmethod
    async def load(cls, session: Any, partition: str, fips: bool) -> AwsCatalog:
        loader = session.get_component("data_loader")
        listed = await session.get_available_regions(APPFLOW, partition)
        endpoints = loader.load_data("endpoints")
        return cls(loader, appflow_regions(listed, partition, fips, endpoints), fips)

    def resolve_regions(self, given: tuple[str, ...], label: str = "--regions") -> tuple[str, ...]:
        """`given` with `all` expanded to this partition's AppFlow regions; `ConfigError`
        for a region AppFlow does not have here (or that has no FIPS endpoint under FIPS)."""
        return check_regions(given, self.regions, self.fips, label)

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
