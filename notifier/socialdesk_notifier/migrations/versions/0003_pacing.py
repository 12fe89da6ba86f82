"""notifier: pacing shared by replicas (decision 0403): one row per lane.

Revision ID: 0003_pacing
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003_pacing"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pacing_lanes",
        sa.Column("lane", sa.String(300), primary_key=True),
        sa.Column("next_at", sa.Double, nullable=False),
        sa.Column("rate", sa.Double),
        sa.Column("cut_at", sa.Double),
        sa.Column("recipients", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("asked_at", sa.Double, nullable=False),
        sa.Column("offered_at", sa.Double, nullable=False),
        # Every reservation rewrites its lane's row: leave room on the page for HOT updates.
        postgresql_with={"fillfactor": 50},
    )


def downgrade() -> None:
    op.drop_table("pacing_lanes")
