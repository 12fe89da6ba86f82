"""notifier's own table: the delivery log, one row per (source event, destination)."""

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
)
