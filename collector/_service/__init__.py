"""What the collector does, as use cases: collect once, migrate, read the inventory.

The orchestration: it combines the AWS adapter, the store and the model, imports no
library but anyio, and never sees a library exception (the adapters translate their own).
"""

from .collect import RunObserver, run_collection
from .database import Reader, Rows, is_labelled_inventory, open_inventory, upgrade_database

__all__ = [
    "Reader",
    "Rows",
    "RunObserver",
    "is_labelled_inventory",
    "open_inventory",
    "run_collection",
    "upgrade_database",
]
