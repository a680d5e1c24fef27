"""Columns holding values AWS sends become unbounded text.

Open enums (connection mode, failure causes, connector types) and the paths of new nested
property blocks can outgrow any fixed length; PostgreSQL would refuse the whole batch.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHANGES = {
    "connector_profiles": {
        "connector_profile_name": 256,
        "connector_type": 64,
        "connector_label": 256,
        "connection_mode": 32,
        "private_connection_status": 32,
        "private_connection_failure_cause": 64,
    },
    "connector_profile_properties": {"connector": 64, "path": 512},
    "collection_scopes": {"aws_error_code": 128},
    "accounts": {"state": 32},
}


def upgrade() -> None:
    for table, columns in CHANGES.items():
        with op.batch_alter_table(table) as batch:
            for column, length in columns.items():
                batch.alter_column(column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    for table, columns in CHANGES.items():
        with op.batch_alter_table(table) as batch:
            for column, length in columns.items():
                batch.alter_column(column, type_=sa.String(length), existing_type=sa.Text())
