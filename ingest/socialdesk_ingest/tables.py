"""ingest's own tables (its database only)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

raw_deliveries = Table(
    "raw_deliveries",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("body", LargeBinary, nullable=False),
    # Webhook deliveries wait for the extraction worker while this is NULL.
    Column("extracted_at", DateTime(timezone=True)),
    Column("extract_error", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
)

customers = Table(
    "customers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("brand", String(64), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("platform_user_id", String(256), nullable=False),
    Column("handle", String(256)),
    Column("display_name", String(256)),
    Column("followers", Integer),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("profile_id", Uuid),
    Column("phone", String(32)),
    UniqueConstraint("brand", "platform", "platform_user_id", name="customers_identity_key"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("brand", String(64), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("thread_key", String(600), nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("ticket_id", Uuid, nullable=False),
    Column("ticket_opened_at", DateTime(timezone=True), nullable=False),
    Column("last_message_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("brand", "platform", "thread_key", name="conversations_thread_key"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("brand", String(64), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("platform_message_id", String(256), nullable=False),
    Column("conversation_id", Uuid, nullable=False),
    Column("ticket_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("text", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("raw_delivery_id", BigInteger),
    Column("attachments", JSONB),
    Column("edited_at", DateTime(timezone=True)),
    Column("deleted_at", DateTime(timezone=True)),
    Column("needs_enrichment", Boolean, nullable=False, server_default="false"),
    Column("in_reply_to", String(256)),
    Column("enrich_attempts", Integer, nullable=False, server_default="0"),
    Column("next_enrich_at", DateTime(timezone=True)),
    UniqueConstraint("brand", "platform", "platform_message_id", name="messages_platform_id_key"),
)

# Another id of a platform user -> the id they are known by (WhatsApp: business-scoped id ->
# phone), so a user who later hides their number stays the same customer.
platform_aliases = Table(
    "platform_aliases",
    metadata,
    Column("brand", String(64), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("alias", String(256), primary_key=True),
    Column("platform_user_id", String(256), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

platform_facts = Table(
    "platform_facts",
    metadata,
    Column("brand", String(64), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("fact_key", String(600), primary_key=True),
    Column("ticket_id", Uuid, nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

channel_health = Table(
    "channel_health",
    metadata,
    Column("brand", String(64), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("healthy", Boolean, nullable=False),
    Column("problem", String(32)),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
)
