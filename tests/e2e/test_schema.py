"""A shared PostgreSQL database: `--schema NAME` keeps a whole inventory in its own schema,
beside other tools' tables and other inventories."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from collector._store import head_revision
from collector.simulator import Organization, Simulator, generate_organization

from ..docs import all_blocks
from ..support import ROOT, Cli, CliResult, fetch, postgres_execute, profile_arns, run_args

REGIONS = ("us-east-1", "eu-west-1")
TABLES = {
    "accounts",
    "alembic_version",
    "collection_run_resources",
    "collection_runs",
    "collection_scope_resources",
    "collection_scopes",
    "connector_profile_properties",
    "connector_profile_versions",
    "connector_profiles",
    "custom_connector_versions",
    "custom_connectors",
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

    for schema, expected in (
        ("inventory_a", profile_arns(org, "us-east-1")),
        ("inventory_b", profile_arns(org)),
    ):
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

    # The SQL page's query as written, for someone whose session sets search_path.
    for schema, expected in (
        ("inventory_a", profile_arns(org, "us-east-1")),
        ("inventory_b", profile_arns(org)),
    ):
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


# --- a schema someone else owns -----------------------------------------------------------------


@dataclass(frozen=True)
class Roles:
    """Two login roles of the test database, neither a superuser: the collector's own, and
    another that may also create schemas in the database."""

    collector: str
    other: str
    admin_url: str

    def url(self, role: str) -> str:
        """The database URL, connecting as `role`."""
        return sa.make_url(self.admin_url).set(username=role).render_as_string(False)

    def as_role(self, role: str, *statements: str) -> None:
        postgres_execute(self.url(role), *statements)


@pytest.fixture
def roles(postgres_url: str) -> Iterator[Roles]:
    suffix = uuid.uuid4().hex[:8]
    collector, other = f"inventory_{suffix}", f"other_{suffix}"
    database = sa.make_url(postgres_url).database
    postgres_execute(
        postgres_url,
        f"CREATE ROLE {collector} LOGIN",
        f"CREATE ROLE {other} LOGIN",
        f'GRANT CREATE ON DATABASE "{database}" TO {collector}, {other}',
    )
    try:
        yield Roles(collector, other, postgres_url)
    finally:
        postgres_execute(
            postgres_url,
            f"DROP OWNED BY {collector}, {other} CASCADE",
            f"DROP ROLE {collector}",
            f"DROP ROLE {other}",
        )


def refused(result: CliResult, roles: Roles, reason: str) -> None:
    assert result.code == 3, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert "--schema inv:" in result.err
    assert reason in result.err, result.err
    assert "the collector uses only a schema that it owns" in result.err


def test_a_schema_another_role_made_is_refused_by_every_command(
    roles: Roles, sim: Simulator, cli: Cli, tmp_path: Path
) -> None:
    """A schema another role created and opened to the collector's role (USAGE, CREATE) is
    refused by `run`, `db upgrade` and the read commands, whether the schema comes from the
    flag, COLLECTOR_SCHEMA or the TOML file, and by alembic by hand, in one line, exit 3,
    and nothing is created in it."""
    roles.as_role(
        roles.other,
        "CREATE SCHEMA inv",
        f"GRANT USAGE, CREATE ON SCHEMA inv TO {roles.collector}",
    )
    url = roles.url(roles.collector)
    reason = f"schema inv is owned by role {roles.other}, not by {roles.collector}"
    refused(cli.collect(url, sim, REGIONS, "--schema", "inv"), roles, reason)
    refused(cli.run(["db", "upgrade", "--database-url", url, "--schema", "inv"]), roles, reason)
    refused(cli.run(["show", "--database-url", url, "--schema", "inv"]), roles, reason)
    env = {**sim.env(), "COLLECTOR_SCHEMA": "inv"}
    refused(cli.run(run_args(url, REGIONS), env), roles, reason)
    config = tmp_path / "collector.toml"
    config.write_text(f'database_url = "{url}"\nschema = "inv"\n')
    refused(cli.run(["export", "--config", str(config)]), roles, reason)
    by_hand = subprocess.run(
        [sys.executable, "-m", "alembic", "-x", "schema=inv", "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, "COLLECTOR_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert by_hand.returncode != 0
    assert reason in by_hand.stderr
    assert "inv" not in tables_by_schema(roles.admin_url)
    # AWS is checked before the database (the caller's identity); nothing was listed.
    assert {service for service, _ in sim.stats.operations} == {"sts"}


def test_tables_another_role_built_with_a_trigger_never_run_as_the_collector(
    roles: Roles, sim: Simulator, cli: Cli
) -> None:
    """Another role builds the inventory's tables at the current revision with a trigger on
    `collection_runs` and grants the collector's role everything: the run is refused before
    it writes, and the trigger never fires as the collector's role."""
    other = roles.url(roles.other)
    built = cli.run(["db", "upgrade", "--database-url", other, "--schema", "inv"])
    assert built.code == 0, built.err
    roles.as_role(
        roles.other,
        "CREATE TABLE inv.fired (who text)",
        "CREATE FUNCTION inv.spy() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO inv.fired VALUES (current_user); RETURN NEW; END $$",
        "CREATE TRIGGER spy BEFORE INSERT ON inv.collection_runs "
        "FOR EACH ROW EXECUTE FUNCTION inv.spy()",
        f"GRANT USAGE ON SCHEMA inv TO {roles.collector}",
        f"GRANT ALL ON ALL TABLES IN SCHEMA inv TO {roles.collector}",
    )
    result = cli.collect(roles.url(roles.collector), sim, REGIONS, "--schema", "inv")
    refused(result, roles, f"schema inv is owned by role {roles.other}")
    assert fetch(other, "SELECT who FROM inv.fired") == []
    assert fetch(other, "SELECT run_id FROM inv.collection_runs") == []


def test_a_table_of_another_role_in_the_collectors_schema_is_refused(
    roles: Roles, sim: Simulator, cli: Cli
) -> None:
    """In a schema the collector's role made, one table handed to another role (or a
    function of another role) is enough to refuse the schema."""
    url = roles.url(roles.collector)
    assert cli.collect(url, sim, REGIONS, "--schema", "inv").code == 0
    postgres_execute(roles.admin_url, f"ALTER TABLE inv.accounts OWNER TO {roles.other}")
    refused(
        cli.collect(url, sim, REGIONS, "--schema", "inv"),
        roles,
        f"table inv.accounts is owned by role {roles.other}, not by {roles.collector}",
    )
    postgres_execute(
        roles.admin_url,
        f"ALTER TABLE inv.accounts OWNER TO {roles.collector}",
        "CREATE FUNCTION inv.lower(text) RETURNS text LANGUAGE sql AS 'SELECT $1'",
        f"ALTER FUNCTION inv.lower(text) OWNER TO {roles.other}",
    )
    refused(
        cli.run(["show", "--database-url", url, "--schema", "inv"]),
        roles,
        f"function inv.lower is owned by role {roles.other}",
    )


def test_create_or_trigger_granted_to_another_role_is_refused(
    roles: Roles, sim: Simulator, cli: Cli
) -> None:
    """The collector's own schema is refused while another role (or PUBLIC) may create
    objects in it or triggers on its tables; the message names the REVOKE to run."""
    url = roles.url(roles.collector)
    assert cli.collect(url, sim, REGIONS, "--schema", "inv").code == 0
    for grant, revoke, reason in (
        (
            f"GRANT CREATE ON SCHEMA inv TO {roles.other}",
            f"REVOKE CREATE ON SCHEMA inv FROM {roles.other}",
            f"REVOKE CREATE ON SCHEMA inv FROM {roles.other}",
        ),
        (
            "GRANT CREATE ON SCHEMA inv TO PUBLIC",
            "REVOKE CREATE ON SCHEMA inv FROM PUBLIC",
            "role PUBLIC may create objects in schema inv",
        ),
        (
            f"GRANT TRIGGER ON inv.collection_runs TO {roles.other}",
            f"REVOKE TRIGGER ON inv.collection_runs FROM {roles.other}",
            f"REVOKE TRIGGER ON inv.collection_runs FROM {roles.other}",
        ),
    ):
        roles.as_role(roles.collector, grant)
        refused(cli.collect(url, sim, REGIONS, "--schema", "inv"), roles, reason)
        roles.as_role(roles.collector, revoke)
    again = cli.collect(url, sim, REGIONS, "--schema", "inv")
    assert again.code == 0, again.err


def test_a_new_schema_belongs_to_the_connecting_role(
    roles: Roles, sim: Simulator, cli: Cli
) -> None:
    """A schema the collector creates is its role's (`AUTHORIZATION CURRENT_USER`), with
    every table in it and alembic's version table."""
    url = roles.url(roles.collector)
    result = cli.collect(url, sim, REGIONS, "--schema", "inv")
    assert result.code == 0, result.err
    owners = fetch(
        roles.admin_url,
        "SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'inv' "
        "UNION SELECT tableowner FROM pg_tables WHERE schemaname = 'inv'",
    )
    assert owners == [{"owner": roles.collector}]
    assert tables_by_schema(roles.admin_url)["inv"] == TABLES


def documented_grants(names: dict[str, str]) -> str:
    """The Security page's statements that hand a schema to the collector's role, with its
    role, database and schema names replaced by `names`."""
    (block,) = [b for b in all_blocks("postgresql") if b.page == "security.md"]
    assert set(names) <= set(re.findall(r"\w+", block.text)), block.text
    return re.sub(r"\b(" + "|".join(names) + r")\b", lambda m: names[m.group(1)], block.text)


def test_the_documented_grants_hand_a_schema_over_to_the_collector(
    postgres_url: str, sim: Simulator, cli: Cli
) -> None:
    """The Security page's statements, run as written (with this test's names) on an empty
    schema another role made and opened to everyone, leave a schema the collector uses, a
    reader can read (tables the collector made afterwards included) but not change, and the
    other role can no longer add to."""
    suffix = uuid.uuid4().hex[:8]
    database = sa.make_url(postgres_url).database
    assert database is not None
    names = {
        "inventory": f"inventory_{suffix}",
        "tools": f"tools_{suffix}",
        "analysts": f"analysts_{suffix}",
        "shared": database,
        "appflow_inventory": f"appflow_inventory_{suffix}",
    }
    collector, tools, analysts, schema = (
        names["inventory"],
        names["tools"],
        names["analysts"],
        names["appflow_inventory"],
    )

    def url(role: str) -> str:
        return sa.make_url(postgres_url).set(username=role).render_as_string(False)

    try:
        postgres_execute(
            postgres_url,
            f"CREATE ROLE {tools} LOGIN",
            f"CREATE ROLE {analysts} LOGIN",
            f'GRANT CREATE ON DATABASE "{database}" TO {tools}',
        )
        postgres_execute(
            url(tools),
            f"CREATE SCHEMA {schema}",
            f"GRANT USAGE, CREATE ON SCHEMA {schema} TO PUBLIC",
        )
        postgres_execute(postgres_url, documented_grants(names))
        result = cli.collect(url(collector), sim, REGIONS, "--schema", schema)
        assert result.code == 0, result.err
        runs = fetch(url(analysts), f"SELECT status FROM {schema}.collection_runs")
        assert runs == [{"status": "succeeded"}]
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            postgres_execute(url(analysts), f"DELETE FROM {schema}.collection_runs")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            postgres_execute(url(tools), f"CREATE TABLE {schema}.planted (a int)")
        again = cli.collect(url(collector), sim, REGIONS, "--schema", schema)
        assert again.code == 0, again.err
    finally:
        existing = {row["rolname"] for row in fetch(postgres_url, "SELECT rolname FROM pg_roles")}
        made = [role for role in (collector, tools, analysts) if role in existing]
        # One DROP OWNED per role: PostgreSQL 15 fails on a default ACL that two roles of
        # one DROP OWNED share ("could not find tuple for default ACL").
        postgres_execute(
            postgres_url,
            *(f"DROP OWNED BY {role} CASCADE" for role in made),
            *(f"DROP ROLE {role}" for role in made),
        )
