"""notifier's own tables: the delivery log, and what it learns of customers' conversations
(last message times for the platforms' windows, our messages seen coming back, and the
platform message ids of sent replies for their receipts)."""

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text, Uuid

metadata = MetaData()

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("source_event_id", Uuid, nullable=False),
    Column("source_event_type", String(64), nullable=False),
    Column("ticket_id", Uuid, nullable=False),
    Column("correlation_id", Uuid, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("destination", String(256), nullable=False),
    Column("payload", JSON, nullable=False),
    # pending → sending (leased) → sent | failed
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True)),
    Column("external_ref", String(128)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    # 0002: an attempt whose outcome was lost; throttled attempts; parts sent; re-drives.
    Column("ambiguous_since", DateTime(timezone=True)),
    Column("throttles", Integer, nullable=False, server_default="0"),
    Column("part_refs", JSON),
    Column("requeued_at", DateTime(timezone=True)),
    Column("failure_reason", String(64)),
)

#: The last message each customer sent each brand on each platform (the messaging windows).
contacts = Table(
    "contacts",
    metadata,
    Column("brand", String(64), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("platform_user_id", String(256), primary_key=True),
    Column("last_message_at", DateTime(timezone=True), nullable=False),
)

#: Our own messages seen coming back through ingest (echoes): how a lost send is found.
own_messages = Table(
    "own_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("brand", String(64), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("platform_message_id", String(256), nullable=False),
    Column("delivery_key", String(128)),
    Column("recipient", String(256)),
    #: sha256 of the text: enough to match a send, without keeping the text twice.
    Column("text_sha", String(64), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

#: Each sent part of a reply by its platform message id, with the latest receipt.
reply_messages = Table(
    "reply_messages",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("platform_message_id", String(256), primary_key=True),
    Column("reply_id", Uuid, nullable=False),
    Column("delivery_id", Uuid, nullable=False),
    Column("brand", String(64), nullable=False),
    Column("ticket_id", Uuid, nullable=False),
    Column("correlation_id", Uuid, nullable=False),
    Column("recipient", String(256), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    # sent → delivered → read, or failed
    Column("status", String(16), nullable=False),
)
