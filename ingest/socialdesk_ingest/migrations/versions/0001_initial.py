"""ingest: runtime tables, raw deliveries, customers, conversations, messages.

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
        "raw_deliveries",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("platform_user_id", sa.String(256), nullable=False),
        sa.Column("handle", sa.String(256)),
        sa.Column("display_name", sa.String(256)),
        sa.Column("followers", sa.Integer),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("brand", "platform", "platform_user_id", name="customers_identity_key"),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("thread_key", sa.String(600), nullable=False),
        sa.Column("customer_id", sa.Uuid, nullable=False),
        sa.Column("ticket_id", sa.Uuid, nullable=False),
        sa.Column("ticket_opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("brand", "platform", "thread_key", name="conversations_thread_key"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("platform_message_id", sa.String(256), nullable=False),
        sa.Column("conversation_id", sa.Uuid, nullable=False),
        sa.Column("ticket_id", sa.Uuid, nullable=False),
        sa.Column("customer_id", sa.Uuid, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("raw_delivery_id", sa.BigInteger),
        sa.UniqueConstraint("brand", "platform", "platform_message_id", name="messages_platform_id_key"),
    )
    op.create_index("messages_ticket_idx", "messages", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("conversations")
    op.drop_table("customers")
    op.drop_table("raw_deliveries")
    op.drop_table("outbox")
    op.drop_table("inbox")
