"""Why a version was written (an account closed or left), when an account left the
organization, and when each described record (flows, custom connectors) was last described.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
VERSIONS = ("connector_profile_versions", "flow_versions", "custom_connector_versions")
DESCRIBED = ("flows", "custom_connectors")


def upgrade() -> None:
    for table in VERSIONS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("change_reason", sa.String(32)))
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("left_at", Timestamp))
    for table in DESCRIBED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("described_at", Timestamp))


def downgrade() -> None:
    for table in DESCRIBED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("described_at")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("left_at")
    for table in VERSIONS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("change_reason")
