"""classifier: what each decision was made from (for replay), and the detectors' snapshot.

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
    op.add_column("classifications", sa.Column("post", sa.JSON))
    op.create_index("classifications_time_idx", "classifications", ["classified_at"])
    op.create_table(
        "engine_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("blob", sa.LargeBinary, nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("engine_state")
    op.drop_index("classifications_time_idx", table_name="classifications")
    op.drop_column("classifications", "post")
