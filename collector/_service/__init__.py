"""What the collector does, as use cases: collect once, migrate, read the inventory.

The orchestration: it combines the AWS adapter, the store and the model, imports no
library but anyio, and never sees a library exception (the adapters translate their own).
"""

from .collect import RunObserver, run_collection
from .database import (
    DatabaseStatus,
    Reader,
    Rows,
    change_columns,
    inventory_columns,
    is_labelled_inventory,
    open_inventory,
    record_columns,
    table_columns,
    upgrade_database,
)
from .plan import PlannedAccount, RunPlan, plan_run
from .preflight import CheckReport, check

__all__ = [
    "CheckReport",
    "DatabaseStatus",
    "PlannedAccount",
    "Reader",
    "Rows",
    "RunObserver",
    "RunPlan",
    "change_columns",
    "check",
    "inventory_columns",
    "is_labelled_inventory",
    "open_inventory",
    "plan_run",
    "record_columns",
    "run_collection",
    "table_columns",
    "upgrade_database",
]
