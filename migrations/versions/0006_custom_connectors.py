"""Custom connectors registered in each account and region, with their history, and the
registration each custom connector's profile uses.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)
ARN = sa.String(2048)


def upgrade() -> None:
    with op.batch_alter_table("connector_profiles") as batch:
        batch.add_column(sa.Column("custom_connector_arn", ARN))
        batch.create_index(
            batch.f("ix_connector_profiles_custom_connector_arn"), ["custom_connector_arn"]
        )
    op.create_table(
        "custom_connectors",
        sa.Column("connector_arn", ARN, nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
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
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("first_seen_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.Column("deleted_at", Timestamp),
        sa.PrimaryKeyConstraint("connector_arn", name=op.f("pk_custom_connectors")),
    )
    op.create_index(
        op.f("ix_custom_connectors_account_id"), "custom_connectors", ["account_id", "region"]
    )
    op.create_table(
        "custom_connector_versions",
        sa.Column("connector_arn", ARN, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("change_type", sa.String(16), nullable=False),
        sa.Column("valid_from", Timestamp, nullable=False),
        sa.Column("valid_to", Timestamp),
        sa.Column("changed_fields", Json, nullable=False),
        sa.Column("snapshot", Json, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint(
            "connector_arn", "version", name=op.f("pk_custom_connector_versions")
        ),
    )
    op.create_index(
        op.f("ix_custom_connector_versions_valid_from"),
        "custom_connector_versions",
        ["valid_from"],
    )
    op.create_index(
        op.f("ix_custom_connector_versions_run_id"), "custom_connector_versions", ["run_id"]
    )


def downgrade() -> None:
    op.drop_table("custom_connector_versions")
    op.drop_table("custom_connectors")
    with op.batch_alter_table("connector_profiles") as batch:
        batch.drop_index(batch.f("ix_connector_profiles_custom_connector_arn"))
        batch.drop_column("custom_connector_arn")
