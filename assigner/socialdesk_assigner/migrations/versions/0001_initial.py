"""assigner: runtime tables, tickets, replies, round-robin cursor.

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
        "tickets",
        sa.Column("ticket_id", sa.Uuid, primary_key=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(16), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("customer_id", sa.Uuid, nullable=False),
        sa.Column("correlation_id", sa.Uuid, nullable=False),
        sa.Column("recipient_platform_user_id", sa.String(256), nullable=False),
        sa.Column("last_platform_message_id", sa.String(256), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("root_cause", sa.Text),
        sa.Column("message_count", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("tickets_agent_status_idx", "tickets", ["agent_id", "status"])
    op.create_index("tickets_customer_idx", "tickets", ["brand", "customer_id"])
    op.create_table(
        "replies",
        sa.Column("reply_id", sa.Uuid, primary_key=True),
        sa.Column("ticket_id", sa.Uuid, nullable=False, index=True),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rr_cursor",
        sa.Column("brand", sa.String(64), primary_key=True),
        sa.Column("last_agent_id", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rr_cursor")
    op.drop_table("replies")
    op.drop_table("tickets")
    op.drop_table("outbox")
    op.drop_table("inbox")
