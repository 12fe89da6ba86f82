"""Inbox retention: processed event ids are forgotten after a window (a BRIN index on
``processed_at``, which grows in insert order: tiny, and next to free on the hot path).

Revision ID: r0002
Revises: r0001
"""

from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("inbox_processed_at", "inbox", ["processed_at"], postgresql_using="brin")


def downgrade() -> None:
    op.drop_index("inbox_processed_at", table_name="inbox")
