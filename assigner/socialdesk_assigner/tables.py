"""assigner's own tables: ticket work state, replies, the round-robin cursor."""

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, Uuid

metadata = MetaData()

tickets = Table(
    "tickets",
    metadata,
    Column("ticket_id", Uuid, primary_key=True),
    Column("brand", String(64), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("queue", String(16), nullable=False),
    Column("category", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    # open (unowned, waiting), assigned, marketing, dismissed, resolved
    Column("status", String(16), nullable=False),
    Column("agent_id", String(64)),
    Column("customer_id", Uuid, nullable=False),
    Column("correlation_id", Uuid, nullable=False),
    Column("recipient_platform_user_id", String(256), nullable=False),
    Column("last_platform_message_id", String(256), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("first_response_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("root_cause", Text),
    Column("message_count", Integer, nullable=False, server_default="1"),
)

replies = Table(
    "replies",
    metadata,
    Column("reply_id", Uuid, primary_key=True),
    Column("ticket_id", Uuid, nullable=False, index=True),
    Column("agent_id", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

rr_cursor = Table(
    "rr_cursor",
    metadata,
    Column("brand", String(64), primary_key=True),
    Column("last_agent_id", String(64), nullable=False),
)
