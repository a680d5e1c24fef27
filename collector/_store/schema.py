"""The tables, as SQLAlchemy Core metadata. The alembic migrations create exactly these.

Column names are a public contract (docs/sql.md): dashboards and saved queries use
them, so a rename needs a migration and a note.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# JSONB on PostgreSQL so people can index and query into it; JSON text on SQLite.
Json: sa.types.TypeEngine[Any] = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always UTC, whatever the database or the machine's time zone.

    SQLite has no time zones: it keeps 'YYYY-MM-DD HH:MM:SS.ffffff' text in UTC, which sorts
    and compares correctly with SQLite's own date functions. PostgreSQL keeps timestamptz.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Timestamp = UtcDateTime
# Values AWS sends are unbounded text: enums grow and property blocks nest deeper over time,
# and a length limit here would turn a new value into a failed write.
ARN = sa.String(2048)
ACCOUNT_ID = sa.String(12)
REGION = sa.String(32)


def _current_version_columns() -> list[sa.Column[Any]]:
    """What a resource's row says of its history: the current version, its digest, when it
    was first and last seen, and when a complete listing stopped showing it."""
    return [
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("first_seen_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.Column("deleted_at", Timestamp),
    ]


def _versions(name: str, key: str) -> sa.Table:
    """A resource's history: one row per version, `valid_to` NULL on the current one."""
    return sa.Table(
        name,
        metadata,
        sa.Column(key, ARN, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("change_type", sa.String(16), nullable=False),
        sa.Column("valid_from", Timestamp, nullable=False),
        sa.Column("valid_to", Timestamp),
        sa.Column("changed_fields", Json, nullable=False),
        sa.Column("snapshot", Json, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        # Why a `deleted` version was written when its listing did not say so: the account
        # closed (`account_closed`) or left the organization (`account_left`).
        sa.Column("change_reason", sa.String(32)),
        sa.Index(None, "valid_from"),
        sa.Index(None, "run_id"),
    )


collection_runs = sa.Table(
    "collection_runs",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("scopes_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("scopes_succeeded", sa.Integer, nullable=False, server_default="0"),
    sa.Column("scopes_failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("scopes_skipped", sa.Integer, nullable=False, server_default="0"),
    sa.Column("profiles_seen", sa.Integer, nullable=False, server_default="0"),
    sa.Column("profiles_created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("profiles_updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("profiles_deleted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("profiles_restored", sa.Integer, nullable=False, server_default="0"),
    sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retries", sa.Integer, nullable=False, server_default="0"),
    sa.Column("filtered", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("error_message", sa.Text),
    sa.Column("run_label", sa.String(64)),
    sa.Column("shard", sa.String(16)),
    # Which resources the run listed; the counts of profiles and flows as columns, kept for
    # the dashboards that read them (`collection_run_resources` has every resource's).
    sa.Column("resources", sa.String(64)),
    sa.Column("flows_seen", sa.Integer, nullable=False, server_default="0"),
    sa.Column("flows_created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("flows_updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("flows_deleted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("flows_restored", sa.Integer, nullable=False, server_default="0"),
    sa.Index(None, "run_label"),
)

collection_scopes = sa.Table(
    "collection_scopes",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("account_id", ACCOUNT_ID, primary_key=True),
    sa.Column("region", REGION, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
    sa.Column("profiles", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("complete", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("error_code", sa.String(64)),
    sa.Column("aws_error_code", sa.Text),
    sa.Column("error_message", sa.Text),
    sa.Column("started_at", Timestamp),
    sa.Column("finished_at", Timestamp),
    sa.Index(None, "account_id", "region"),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", ACCOUNT_ID, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("last_seen_at", Timestamp, nullable=False),
    # When a complete listing of the organization no longer showed it (NULL: a member).
    sa.Column("left_at", Timestamp),
)

connector_profiles = sa.Table(
    "connector_profiles",
    metadata,
    sa.Column("connector_profile_arn", ARN, primary_key=True),
    sa.Column("account_id", ACCOUNT_ID, nullable=False),
    sa.Column("region", REGION, nullable=False),
    sa.Column("connector_profile_name", sa.Text),
    sa.Column("connector_type", sa.Text),
    sa.Column("connector_label", sa.Text),
    sa.Column("connection_mode", sa.Text),
    sa.Column("credentials_arn", ARN),
    sa.Column("created_at", Timestamp),
    sa.Column("last_updated_at", Timestamp),
    sa.Column("private_connection_status", sa.Text),
    sa.Column("private_connection_failure_cause", sa.Text),
    sa.Column("private_connection_failure_message", sa.Text),
    sa.Column("properties", Json, nullable=False),
    *_current_version_columns(),
    # The registration of a custom connector's profile (`custom_connectors`), by its label.
    sa.Column("custom_connector_arn", ARN),
    sa.Index(None, "account_id", "region"),
    sa.Index(None, "connector_type"),
    sa.Index(None, "custom_connector_arn"),
)

connector_profile_properties = sa.Table(
    "connector_profile_properties",
    metadata,
    sa.Column("connector_profile_arn", ARN, primary_key=True),
    sa.Column("connector", sa.Text, primary_key=True),
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("value", sa.Text),
    sa.Index(None, "connector", "path"),
)

connector_profile_versions = _versions("connector_profile_versions", "connector_profile_arn")

# Each resource's listing of each scope, and its counts in each run.
collection_scope_resources = sa.Table(
    "collection_scope_resources",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("account_id", ACCOUNT_ID, primary_key=True),
    sa.Column("region", REGION, primary_key=True),
    sa.Column("resource", sa.String(32), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("complete", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
    sa.Column("items", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retries", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_code", sa.String(64)),
    sa.Column("aws_error_code", sa.Text),
    sa.Column("error_message", sa.Text),
)

collection_run_resources = sa.Table(
    "collection_run_resources",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("resource", sa.String(32), primary_key=True),
    sa.Column("seen", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("restored", sa.Integer, nullable=False, server_default="0"),
)

# Flows, and the connector profiles they use.
flows = sa.Table(
    "flows",
    metadata,
    sa.Column("flow_arn", ARN, primary_key=True),
    sa.Column("account_id", ACCOUNT_ID, nullable=False),
    sa.Column("region", REGION, nullable=False),
    sa.Column("flow_name", sa.Text),
    sa.Column("flow_status", sa.Text),
    sa.Column("trigger_type", sa.Text),
    sa.Column("source_connector_type", sa.Text),
    sa.Column("source_connector_label", sa.Text),
    sa.Column("destination_connector_type", sa.Text),
    sa.Column("destination_connector_label", sa.Text),
    sa.Column("kms_arn", ARN),
    sa.Column("description", sa.Text),
    sa.Column("created_by", sa.Text),
    sa.Column("last_updated_by", sa.Text),
    sa.Column("created_at", Timestamp),
    sa.Column("last_updated_at", Timestamp),
    sa.Column("last_run_status", sa.Text),
    sa.Column("last_run_at", Timestamp),
    sa.Column("last_run_message", sa.Text),
    sa.Column("tags", Json, nullable=False),
    sa.Column("details", Json, nullable=False),
    sa.Column("definition_hash", sa.String(64), nullable=False),
    # When it was last described (`DescribeFlow`): a description older than
    # `--describe-max-age` is asked for again even if the listing shows no change.
    sa.Column("described_at", Timestamp),
    *_current_version_columns(),
    sa.Index(None, "account_id", "region"),
)

flow_versions = _versions("flow_versions", "flow_arn")

flow_connector_profiles = sa.Table(
    "flow_connector_profiles",
    metadata,
    sa.Column("flow_arn", ARN, primary_key=True),
    sa.Column("role", sa.String(16), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("connector_profile_name", sa.Text, nullable=False),
    sa.Column("connector_profile_arn", ARN),
    sa.Index(None, "connector_profile_arn"),
)

# Custom connectors registered in each account and region.
custom_connectors = sa.Table(
    "custom_connectors",
    metadata,
    sa.Column("connector_arn", ARN, primary_key=True),
    sa.Column("account_id", ACCOUNT_ID, nullable=False),
    sa.Column("region", REGION, nullable=False),
    sa.Column("connector_label", sa.Text, nullable=False),
    sa.Column("connector_name", sa.Text),
    sa.Column("connector_version", sa.Text),
    sa.Column("connector_owner", sa.Text),
    sa.Column("provisioning_type", sa.Text),
    sa.Column("lambda_arn", ARN),
    sa.Column("registered_at", Timestamp),
    sa.Column("registered_by", sa.Text),
    sa.Column("details", Json, nullable=False),
    sa.Column("summary_hash", sa.String(64), nullable=False),
    sa.Column("described_at", Timestamp),
    *_current_version_columns(),
    sa.Index(None, "account_id", "region"),
)

custom_connector_versions = _versions("custom_connector_versions", "connector_arn")
