"""From parsed arguments to the flags `load_settings` reads."""

from __future__ import annotations

import argparse
from typing import Any


def given_flags(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The flags given on the command line (all of them, or only `names`), plus `config`."""
    values = vars(args)
    keys = (*names, "config") if names else tuple(values)
    return {key: values[key] for key in keys if values.get(key) is not None}
