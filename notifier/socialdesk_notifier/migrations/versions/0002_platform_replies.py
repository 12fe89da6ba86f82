"""notifier: platform replies (issue 10): windows, echoes, receipts, ambiguous sends.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("ambiguous_since", sa.DateTime(timezone=True)))
    op.add_column("deliveries", sa.Column("throttles", sa.Integer, nullable=False, server_default="0"))
    op.add_column("deliveries", sa.Column("part_refs", sa.JSON))
    op.add_column("deliveries", sa.Column("requeued_at", sa.DateTime(timezone=True)))
    op.add_column("deliveries", sa.Column("failure_reason", sa.String(64)))
    # Rows written before this revision were judged by "attempts > 1": keep them cautious.
    op.execute(
        "UPDATE deliveries SET ambiguous_since = created_at WHERE status IN ('pending', 'sending') AND attempts > 0"
    )
    op.create_index(
        "deliveries_failed_idx", "deliveries", ["created_at"], postgresql_where=sa.text("status = 'failed'")
    )
    op.create_table(
        "contacts",
        sa.Column("brand", sa.String(64), primary_key=True),
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("platform_user_id", sa.String(256), primary_key=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "own_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("platform_message_id", sa.String(256), nullable=False),
        sa.Column("delivery_key", sa.String(128)),
        sa.Column("recipient", sa.String(256)),
        sa.Column("text_sha", sa.String(64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("own_messages_key_idx", "own_messages", ["delivery_key"])
    op.create_index("own_messages_text_idx", "own_messages", ["brand", "platform", "text_sha"])
    op.create_table(
        "reply_messages",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("platform_message_id", sa.String(256), primary_key=True),
        sa.Column("reply_id", sa.Uuid, nullable=False),
        sa.Column("delivery_id", sa.Uuid, nullable=False),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.Uuid, nullable=False),
        sa.Column("correlation_id", sa.Uuid, nullable=False),
        sa.Column("recipient", sa.String(256), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("reply_messages_reply_idx", "reply_messages", ["reply_id"])
    op.create_index(
        "reply_messages_recipient_idx", "reply_messages", ["brand", "platform", "recipient", "sent_at"]
    )


def downgrade() -> None:
    op.drop_table("reply_messages")
    op.drop_table("own_messages")
    op.drop_table("contacts")
    op.drop_index("deliveries_failed_idx", "deliveries")
    for column in ("failure_reason", "requeued_at", "part_refs", "throttles", "ambiguous_since"):
        op.drop_column("deliveries", column)
