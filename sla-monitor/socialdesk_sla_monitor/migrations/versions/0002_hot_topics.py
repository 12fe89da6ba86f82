"""sla-monitor: hot topics tighten the SLA of their tickets.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("timers", sa.Column("group_id", sa.String(64)))
    op.add_column("timers", sa.Column("hot", sa.Boolean, nullable=False, server_default="false"))
    op.create_index(
        "timers_group_idx", "timers", ["group_id"], postgresql_where=sa.text("group_id IS NOT NULL")
    )
    op.create_table(
        "hot_groups",
        sa.Column("group_id", sa.String(64), primary_key=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("volume", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hot_groups")
    op.drop_index("timers_group_idx", table_name="timers")
    op.drop_column("timers", "hot")
    op.drop_column("timers", "group_id")
