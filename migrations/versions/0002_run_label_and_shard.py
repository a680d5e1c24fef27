"""Runs carry a label and a shard, so the shards of one scheduled pass group together.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("collection_runs") as batch:
        batch.add_column(sa.Column("run_label", sa.String(64)))
        batch.add_column(sa.Column("shard", sa.String(16)))
    op.create_index(op.f("ix_collection_runs_run_label"), "collection_runs", ["run_label"])


def downgrade() -> None:
    op.drop_index(op.f("ix_collection_runs_run_label"), table_name="collection_runs")
    with op.batch_alter_table("collection_runs") as batch:
        batch.drop_column("shard")
        batch.drop_column("run_label")
