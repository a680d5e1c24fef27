"""botocore's service models, read once per process rather than once per run.

A run's sessions read each service's models (its API, paginators, endpoint rules: JSON of
up to a few hundred kilobytes) through one data loader, and finding them lists botocore's
data folders. A process that runs the collector more than once (a program embedding it,
`collector demo`, the test suite) would pay for both again on every run. Only the models
and the listings that find them are shared; botocore's endpoint data (`endpoints.json`)
stays with each loader, because its endpoint resolver writes into it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from botocore.loaders import Loader

# (search paths, extras, what, arguments) -> the parsed model or listing.
_SHARED: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()


class SharedModelsLoader(Loader):  # type: ignore[misc]
    """botocore's loader, with the models shared by every loader of the process that
    searches the same folders."""

    def list_available_services(self, type_name: str) -> Any:
        return self._shared("services", super().list_available_services, type_name)

    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> Any:
        return self._shared(
            "model", super().load_service_model, service_name, type_name, api_version
        )

    def _shared(self, what: str, load: Callable[..., Any], *args: Any) -> Any:
        key = (tuple(self.search_paths), tuple(self.extras_types), what, *args)
        found = _SHARED.get(key)
        if found is None:
            found = load(*args)
            with _LOCK:
                found = _SHARED.setdefault(key, found)
        return found


def shared_models_loader(data_path: str | None) -> SharedModelsLoader:
    """What `botocore.loaders.create_loader` makes of AWS_DATA_PATH (`data_path`), sharing
    the models."""
    if data_path is None:
        return SharedModelsLoader()
    paths = [os.path.expanduser(os.path.expandvars(path)) for path in data_path.split(os.pathsep)]
    return SharedModelsLoader(extra_search_paths=paths)
