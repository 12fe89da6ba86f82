"""classifier: runtime tables and classifications.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from socialdesk_runtime.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "classifications",
        sa.Column("message_id", sa.Uuid, primary_key=True),
        sa.Column("ticket_id", sa.Uuid, nullable=False, index=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(16), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("sentiment", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("auto_reply", sa.String(64)),
        sa.Column("group_id", sa.String(64)),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("classified_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("classifications")
    op.drop_table("outbox")
    op.drop_table("inbox")
