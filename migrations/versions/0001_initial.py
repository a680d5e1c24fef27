"""The initial schema: profiles, their properties and versions, runs, scopes, accounts.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)
ARN = sa.String(2048)


def upgrade() -> None:
    op.create_table(
        "collection_runs",
        sa.Column("run_id", sa.String(36), nullable=False),
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
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_collection_runs")),
    )
    op.create_table(
        "collection_scopes",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
        sa.Column("profiles", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("complete", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("error_code", sa.String(64)),
        sa.Column("aws_error_code", sa.String(128)),
        sa.Column("error_message", sa.Text),
        sa.Column("started_at", Timestamp),
        sa.Column("finished_at", Timestamp),
        sa.PrimaryKeyConstraint(
            "run_id", "account_id", "region", name=op.f("pk_collection_scopes")
        ),
    )
    op.create_index(
        op.f("ix_collection_scopes_account_id"), "collection_scopes", ["account_id", "region"]
    )
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("state", sa.String(32)),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "connector_profiles",
        sa.Column("connector_profile_arn", ARN, nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("connector_profile_name", sa.String(256)),
        sa.Column("connector_type", sa.String(64)),
        sa.Column("connector_label", sa.String(256)),
        sa.Column("connection_mode", sa.String(32)),
        sa.Column("credentials_arn", ARN),
        sa.Column("created_at", Timestamp),
        sa.Column("last_updated_at", Timestamp),
        sa.Column("private_connection_status", sa.String(32)),
        sa.Column("private_connection_failure_cause", sa.String(64)),
        sa.Column("private_connection_failure_message", sa.Text),
        sa.Column("properties", Json, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("first_seen_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.Column("deleted_at", Timestamp),
        sa.PrimaryKeyConstraint("connector_profile_arn", name=op.f("pk_connector_profiles")),
    )
    op.create_index(
        op.f("ix_connector_profiles_account_id"), "connector_profiles", ["account_id", "region"]
    )
    op.create_index(
        op.f("ix_connector_profiles_connector_type"), "connector_profiles", ["connector_type"]
    )
    op.create_table(
        "connector_profile_properties",
        sa.Column("connector_profile_arn", ARN, nullable=False),
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("value", sa.Text),
        sa.PrimaryKeyConstraint(
            "connector_profile_arn",
            "connector",
            "path",
            name=op.f("pk_connector_profile_properties"),
        ),
    )
    op.create_index(
        op.f("ix_connector_profile_properties_connector"),
        "connector_profile_properties",
        ["connector", "path"],
    )
    op.create_table(
        "connector_profile_versions",
        sa.Column("connector_profile_arn", ARN, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("change_type", sa.String(16), nullable=False),
        sa.Column("valid_from", Timestamp, nullable=False),
        sa.Column("valid_to", Timestamp),
        sa.Column("changed_fields", Json, nullable=False),
        sa.Column("snapshot", Json, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint(
            "connector_profile_arn", "version", name=op.f("pk_connector_profile_versions")
        ),
    )
    op.create_index(
        op.f("ix_connector_profile_versions_valid_from"),
        "connector_profile_versions",
        ["valid_from"],
    )
    op.create_index(
        op.f("ix_connector_profile_versions_run_id"), "connector_profile_versions", ["run_id"]
    )


def downgrade() -> None:
    for table in (
        "connector_profile_versions",
        "connector_profile_properties",
        "connector_profiles",
        "accounts",
        "collection_scopes",
        "collection_runs",
    ):
        op.drop_table(table)
