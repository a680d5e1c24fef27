"""Helpers shared by the end-to-end tests: run the CLI, read the database back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from collector._cli import main
from collector._store import create_engine


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def run_cli(
    args: Sequence[str],
    env: Mapping[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> CliResult:
    """Run `collector ARGS` in this process with `env` set, as cron would run it."""
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        code = main(list(args))
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def fetch(url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a query, as dicts, from a user's database URL (SQLite or PostgreSQL)."""

    async def go() -> list[dict[str, Any]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                result = await conn.execute(sa.text(sql), params)
                return [dict(row._mapping) for row in result]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def as_json(value: Any) -> Any:
    """JSON columns come back as text on SQLite and decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value
