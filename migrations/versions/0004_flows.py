"""Flows beside connector profiles: flows with their history, the profiles they use, and each
resource's listing per scope.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)
ARN = sa.String(2048)
RUN_COUNTS = ("flows_seen", "flows_created", "flows_updated", "flows_deleted", "flows_restored")


def upgrade() -> None:
    with op.batch_alter_table("collection_runs") as batch:
        batch.add_column(sa.Column("resources", sa.String(64)))
        for name in RUN_COUNTS:
            batch.add_column(sa.Column(name, sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "collection_scope_resources",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("resource", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
        sa.Column("items", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error_code", sa.String(64)),
        sa.Column("aws_error_code", sa.Text),
        sa.Column("error_message", sa.Text),
        sa.PrimaryKeyConstraint(
            "run_id", "account_id", "region", "resource", name=op.f("pk_collection_scope_resources")
        ),
    )
    op.create_table(
        "flows",
        sa.Column("flow_arn", ARN, nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
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
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("first_seen_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.Column("deleted_at", Timestamp),
        sa.PrimaryKeyConstraint("flow_arn", name=op.f("pk_flows")),
    )
    op.create_index(op.f("ix_flows_account_id"), "flows", ["account_id", "region"])
    op.create_table(
        "flow_versions",
        sa.Column("flow_arn", ARN, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("change_type", sa.String(16), nullable=False),
        sa.Column("valid_from", Timestamp, nullable=False),
        sa.Column("valid_to", Timestamp),
        sa.Column("changed_fields", Json, nullable=False),
        sa.Column("snapshot", Json, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("flow_arn", "version", name=op.f("pk_flow_versions")),
    )
    op.create_index(op.f("ix_flow_versions_valid_from"), "flow_versions", ["valid_from"])
    op.create_index(op.f("ix_flow_versions_run_id"), "flow_versions", ["run_id"])
    op.create_table(
        "flow_connector_profiles",
        sa.Column("flow_arn", ARN, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("connector_profile_name", sa.Text, nullable=False),
        sa.Column("connector_profile_arn", ARN),
        sa.PrimaryKeyConstraint(
            "flow_arn", "role", "position", name=op.f("pk_flow_connector_profiles")
        ),
    )
    op.create_index(
        op.f("ix_flow_connector_profiles_connector_profile_arn"),
        "flow_connector_profiles",
        ["connector_profile_arn"],
    )


def downgrade() -> None:
    tables = ("flow_connector_profiles", "flow_versions", "flows", "collection_scope_resources")
    for table in tables:
        op.drop_table(table)
    with op.batch_alter_table("collection_runs") as batch:
        for name in reversed(RUN_COUNTS):
            batch.drop_column(name)
        batch.drop_column("resources")
