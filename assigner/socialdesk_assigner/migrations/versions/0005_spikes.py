"""assigner: each brand's latest volume spikes (the classifier's SpikeDetected), for the
manager's cockpit.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spikes",
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("volume", sa.Integer, nullable=False),
        sa.Column("baseline_volume", sa.Float, nullable=False),
        sa.Column("negative_share", sa.Float, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("spikes_at_idx", "spikes", ["at"])


def downgrade() -> None:
    op.drop_table("spikes")
