"""classifier's own tables: every decision, with its reasons, for audit and restore."""

from sqlalchemy import JSON, Column, DateTime, Integer, LargeBinary, MetaData, String, Table, Uuid

metadata = MetaData()

classifications = Table(
    "classifications",
    metadata,
    Column("message_id", Uuid, primary_key=True),
    Column("ticket_id", Uuid, nullable=False, index=True),
    Column("brand", String(64), nullable=False),
    Column("queue", String(16), nullable=False),
    Column("category", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("sentiment", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("auto_reply", String(64)),
    Column("group_id", String(64)),
    Column("detail", JSON, nullable=False),
    Column("classified_at", DateTime(timezone=True), nullable=False, index=True),
    # The message as the classifier saw it: replayed into the detectors after a restart.
    Column("post", JSON),
)

engine_state = Table(
    "engine_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("blob", LargeBinary, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
)
