"""`--schema` on PostgreSQL: a schema the collector uses must be its own.

A role with CREATE on the database can make the schema first and grant the collector access:
it could then drop the inventory's tables, or build them itself with a trigger (or a view,
a function, an operator) that runs as the collector's role. So the collector uses a schema
only when the schema and everything in it belong to the role it connects as, and no other
role may create objects in it or triggers on its tables; otherwise it refuses, in one line,
before it reads or writes anything there. Every query here names `pg_catalog` explicitly,
so nothing in the schema under check can stand in for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..._errors import DatabaseError

# Objects in the schema (`$schema`, checked [a-z_][a-z0-9_]* by the settings) owned by a role
# other than the current one, and grants that let another role add code the collector's
# role would run: CREATE on the schema, TRIGGER on a table. The worst first, for the message.
_FOREIGN = """
WITH ns AS (
    SELECT oid, nspowner, nspacl FROM pg_catalog.pg_namespace WHERE nspname = '$schema'
), me AS (
    SELECT oid FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER
)
SELECT kind, name,
       CASE WHEN who = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(who)::text END,
       CURRENT_USER::text
FROM (
    SELECT 'schema' AS kind, '$schema' AS name, ns.nspowner AS who
    FROM ns, me WHERE ns.nspowner <> me.oid
    UNION ALL
    SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
               WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
               WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' ELSE 'relation' END,
           c.relname, c.relowner
    FROM pg_catalog.pg_class c, ns, me WHERE c.relnamespace = ns.oid AND c.relowner <> me.oid
    UNION ALL
    SELECT 'function', p.proname, p.proowner
    FROM pg_catalog.pg_proc p, ns, me WHERE p.pronamespace = ns.oid AND p.proowner <> me.oid
    UNION ALL
    SELECT 'operator', o.oprname, o.oprowner
    FROM pg_catalog.pg_operator o, ns, me
    WHERE o.oprnamespace = ns.oid AND o.oprowner <> me.oid
    UNION ALL
    SELECT 'type', t.typname, t.typowner
    FROM pg_catalog.pg_type t, ns, me WHERE t.typnamespace = ns.oid AND t.typowner <> me.oid
    UNION ALL
    SELECT 'create', '$schema', a.grantee
    FROM ns, pg_catalog.aclexplode(ns.nspacl) a
    WHERE a.privilege_type = 'CREATE' AND a.grantee <> ns.nspowner
    UNION ALL
    SELECT 'trigger', c.relname, a.grantee
    FROM pg_catalog.pg_class c, ns, pg_catalog.aclexplode(c.relacl) a
    WHERE c.relnamespace = ns.oid AND a.privilege_type = 'TRIGGER' AND a.grantee <> c.relowner
) AS found
ORDER BY pg_catalog.array_position(
    ARRAY['schema', 'create', 'trigger', 'table', 'view', 'materialized view', 'function',
          'operator', 'sequence', 'relation', 'index', 'type'], kind), name
LIMIT $limit
"""
# Rows read: the first is named, the rest only counted (up to this many).
_LIMIT = 100


def foreign_objects_query(schema: str) -> str:
    """The catalog query listing what in `schema` is not the current role's own."""
    return _FOREIGN.replace("$schema", schema).replace("$limit", str(_LIMIT))


def refusal(schema: str, found: list[tuple[str, str, str]], me: str) -> DatabaseError:
    """The one-line error for what `foreign_objects_query` found, as (kind, name, role)."""
    kind, name, role = found[0]
    if kind == "schema":
        what = f"schema {schema} is owned by role {role}, not by {me} (the role connecting)"
    elif kind == "create":
        what = (
            f"role {role} may create objects in schema {schema} "
            f"(REVOKE CREATE ON SCHEMA {schema} FROM {role})"
        )
    elif kind == "trigger":
        what = (
            f"role {role} may create triggers on {schema}.{name} "
            f"(REVOKE TRIGGER ON {schema}.{name} FROM {role})"
        )
    else:
        what = f"{kind} {schema}.{name} is owned by role {role}, not by {me}"
    more = f" (and {len(found) - 1}{'+' if len(found) == _LIMIT else ''} more)" if found[1:] else ""
    return DatabaseError(
        f"--schema {schema}: {what}{more}; the collector uses only a schema that it owns "
        "with everything in it"
    )


def refuse_foreign(schema: str, rows: Sequence[Sequence[Any]]) -> None:
    """Raise `refusal` if `foreign_objects_query` found anything (its rows)."""
    if rows:
        found = [(str(kind), str(name), str(role)) for kind, name, role, _ in rows]
        raise refusal(schema, found, str(rows[0][3]))


def check_schema_owner(cursor: Any, schema: str) -> None:
    """Raise `DatabaseError` unless the current role owns `schema` (if it exists) and all it
    holds, and no other role may add code to it. `cursor` is a DBAPI cursor."""
    cursor.execute(foreign_objects_query(schema))
    refuse_foreign(schema, cursor.fetchall())
