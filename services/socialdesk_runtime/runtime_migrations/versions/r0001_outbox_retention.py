"""Outbox retention: published rows are kept (published_at), broker offsets remembered.

Revision ID: r0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("outbox_pending", "outbox", ["id"], postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "outbox_broker",
        sa.Column("topic", sa.String(128), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("acked_offset", sa.BigInteger, nullable=False),
        sa.Column("cluster_id", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outbox_broker")
    op.drop_index("outbox_pending", table_name="outbox")
    op.drop_column("outbox", "published_at")
