"""A shared PostgreSQL database: `--schema NAME` keeps a whole inventory in its own schema,
beside other tools' tables and other inventories."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from collector._store import head_revision
from collector.simulator import Organization, Simulator, generate_organization

from ..support import ROOT, Cli, fetch, postgres_execute

REGIONS = ("us-east-1", "eu-west-1")
TABLES = {
    "accounts",
    "alembic_version",
    "collection_runs",
    "collection_scope_resources",
    "collection_scopes",
    "connector_profile_properties",
    "connector_profile_versions",
    "connector_profiles",
    "flow_connector_profiles",
    "flow_versions",
    "flows",
}


@pytest.fixture
def org() -> Organization:
    return generate_organization(
        seed=31, accounts=5, empty_fraction=0.3, profiles_per_scope=(1, 4), regions=REGIONS
    )


def tables_by_schema(url: str) -> dict[str, set[str]]:
    rows = fetch(
        url,
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["table_schema"], set()).add(row["table_name"])
    return found


def with_search_path(url: str, schema: str, sql: str) -> list[dict[str, Any]]:
    """Rows of `sql` in a session whose search_path is `schema` alone, as a person sets it."""

    async def go() -> list[dict[str, Any]]:
        parsed = sa.make_url(url)
        conn = await asyncpg.connect(
            host=parsed.host,
            port=parsed.port,
            user=parsed.username,
            database=parsed.database,
            server_settings={"search_path": schema},
        )
        try:
            return [dict(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()

    return asyncio.run(go())


def arns(org: Organization, region: str | None = None) -> set[str]:
    return {
        str(p["connectorProfileArn"]) for (_, r), p in org.all_profiles() if region in (None, r)
    }


@pytest.mark.slow
def test_two_inventories_live_in_two_schemas_of_one_database(
    postgres_url: str, org: Organization, sim: Simulator, cli: Cli
) -> None:
    """Runs with --schema a and --schema b build two complete inventories side by side,
    beside another tool's table of the same name in public, and the read commands and
    plain SQL with search_path each see only their own."""
    postgres_execute(postgres_url, "CREATE TABLE public.accounts (id text)")
    first = cli.collect(postgres_url, sim, ["us-east-1"], "--schema", "inventory_a")
    assert first.code == 0, first.err
    second = cli.collect(postgres_url, sim, REGIONS, "--schema", "inventory_b")
    assert second.code == 0, second.err
    schemas = tables_by_schema(postgres_url)
    assert schemas["inventory_a"] == TABLES
    assert schemas["inventory_b"] == TABLES
    assert schemas["public"] == {"accounts"}

    for schema, expected in (("inventory_a", arns(org, "us-east-1")), ("inventory_b", arns(org))):
        shown = cli.run(
            ["show", "--database-url", postgres_url, "--schema", schema, "--format", "json"]
        )
        assert shown.code == 0, shown.err
        assert {r["connector_profile_arn"] for r in json.loads(shown.out)} == expected
        exported = cli.run(["export", "--database-url", postgres_url, "--schema", schema])
        assert exported.code == 0, exported.err
        assert {
            json.loads(line)["connector_profile_arn"] for line in exported.out.splitlines()
        } == (expected)
        changes = cli.run(
            [
                "changes",
                "--since",
                "1h",
                "--database-url",
                postgres_url,
                "--schema",
                schema,
                "--format",
                "json",
            ]
        )
        assert changes.code == 0, changes.err
        assert {r["connector_profile_arn"] for r in json.loads(changes.out)} == expected

    # The README's SQL as written, for someone whose session sets search_path.
    for schema, expected in (("inventory_a", arns(org, "us-east-1")), ("inventory_b", arns(org))):
        rows = with_search_path(
            postgres_url,
            schema,
            "SELECT account_id, connector_type, count(*) AS profiles "
            "FROM connector_profiles WHERE deleted_at IS NULL "
            "GROUP BY account_id, connector_type ORDER BY account_id, profiles DESC",
        )
        assert sum(r["profiles"] for r in rows) == len(expected)


def test_runs_in_two_schemas_do_not_share_the_run_lock(
    postgres_url: str, sim: Simulator, cli: Cli
) -> None:
    """Each schema has its own run lock: a run in one schema is not refused because a run
    holds the lock of another schema of the same database."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import anyio, sys\n"
            "from collector._store import open_engine, run_lock\n"
            "async def main():\n"
            "    async with open_engine(sys.argv[1], 'inventory_a') as e, run_lock(e, 'run'):\n"
            "        print('held', flush=True)\n"
            "        sys.stdin.read()\n"
            "anyio.run(main)\n",
            postgres_url,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        refused = cli.collect(postgres_url, sim, ["us-east-1"], "--schema", "inventory_a")
        assert refused.code == 3
        assert "another collector run holds the lock" in refused.err
        other = cli.collect(postgres_url, sim, ["us-east-1"], "--schema", "inventory_b")
        assert other.code == 0, other.err
    finally:
        holder.communicate("", timeout=30)


def test_db_upgrade_and_alembic_honour_the_schema(postgres_url: str, cli: Cli) -> None:
    """`collector db upgrade --schema` and alembic run by hand with `-x schema=` create the
    schema if missing and migrate only inside it; the read commands refuse a schema that
    holds no inventory."""
    upgraded = cli.run(["db", "upgrade", "--database-url", postgres_url, "--schema", "inv_one"])
    assert upgraded.code == 0, upgraded.err
    assert "(schema inv_one) is up to date" in upgraded.out
    env = {**os.environ, "COLLECTOR_DATABASE_URL": postgres_url}
    by_hand = subprocess.run(
        [sys.executable, "-m", "alembic", "-x", "schema=inv_two", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert by_hand.returncode == 0, by_hand.stderr
    schemas = tables_by_schema(postgres_url)
    assert schemas["inv_one"] == TABLES
    assert schemas["inv_two"] == TABLES
    assert "public" not in schemas
    for schema in ("inv_one", "inv_two"):
        version = fetch(postgres_url, f"SELECT version_num FROM {schema}.alembic_version")
        assert version == [{"version_num": head_revision()}]
    empty = cli.run(["show", "--database-url", postgres_url, "--schema", "nothing_here"])
    assert empty.code == 3
    assert "has no collector schema" in empty.err


def test_schema_is_refused_for_sqlite_and_bad_names(sqlite_url: str, cli: Cli) -> None:
    """--schema with SQLite, or a name that is not a plain lower-case identifier, exits 2
    with one line."""
    for args, message in (
        (["--schema", "inventory"], "--schema needs a PostgreSQL database"),
        (["--schema", "Bad-Name"], "--schema must be 1 to 63 characters"),
    ):
        result = cli.run(["db", "upgrade", "--database-url", sqlite_url, *args])
        assert result.code == 2
        assert message in result.err
        assert len(result.err.strip().splitlines()) == 1
