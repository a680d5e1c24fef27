"""Each resource's counts per run, in a table of their own: a resource added later needs no
new `collection_runs` columns.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COUNTS = ("seen", "created", "updated", "deleted", "restored")


def upgrade() -> None:
    op.create_table(
        "collection_run_resources",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("resource", sa.String(32), nullable=False),
        *(sa.Column(name, sa.Integer, nullable=False, server_default="0") for name in COUNTS),
        sa.PrimaryKeyConstraint("run_id", "resource", name=op.f("pk_collection_run_resources")),
    )
    # The runs before this revision: their profile and flow counts, from their columns.
    runs = sa.table(
        "collection_runs",
        sa.column("run_id", sa.String),
        sa.column("resources", sa.String),
        *(
            sa.column(f"{prefix}_{name}", sa.Integer)
            for prefix in ("profiles", "flows")
            for name in COUNTS
        ),
    )
    counts = sa.table(
        "collection_run_resources",
        sa.column("run_id", sa.String),
        sa.column("resource", sa.String),
        *(sa.column(name, sa.Integer) for name in COUNTS),
    )
    listed = {
        # Runs from before revision 0004 listed profiles alone, and name no resources.
        "profiles": sa.or_(runs.c.resources.is_(None), runs.c.resources.like("%profiles%")),
        "flows": runs.c.resources.like("%flows%"),
    }
    for prefix, where in listed.items():
        op.execute(
            counts.insert().from_select(
                ["run_id", "resource", *COUNTS],
                sa.select(
                    runs.c.run_id,
                    sa.literal(prefix),
                    *(runs.c[f"{prefix}_{name}"] for name in COUNTS),
                ).where(where),
            )
        )


def downgrade() -> None:
    op.drop_table("collection_run_resources")
