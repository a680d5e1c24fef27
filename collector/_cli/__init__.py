"""The `collector` command line: parsing, the commands, and what they print."""

from .main import main

__all__ = ["main"]
