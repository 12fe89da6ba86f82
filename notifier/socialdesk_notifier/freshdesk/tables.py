"""The Freshdesk connector's own tables (migration branch ``0003_freshdesk``).

- ``freshdesk_tickets``: a cheap mirror of every socialdesk ticket the notifier has seen
  open (always kept, whether a brand's connector is on or not, so a backfill knows the
  open tickets), and for synced ones the Freshdesk ticket id and what we set on it.
- ``freshdesk_ops``: the ordered operations owed to Freshdesk, one row per source event
  and operation (unique key: a redelivered event adds nothing), leased like deliveries.
- ``freshdesk_inbound``: what came back from Freshdesk (agent replies, resolutions) and
  became events, so a repeated webhook changes nothing.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Identity,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)

metadata = MetaData()

freshdesk_tickets = Table(
    "freshdesk_tickets",
    metadata,
    Column("ticket_id", Uuid, primary_key=True),
    Column("brand", String(64), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("customer_platform_user_id", String(256), nullable=False),
    Column("customer_name", String(256)),
    Column("first_text", Text, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    # From MessageClassified of the first message (null until seen).
    Column("queue", String(16)),
    Column("category", String(32)),
    Column("priority", String(16)),
    Column("incident_group", String(128)),
    # open → resolved (ours), or dismissed (never synced)
    Column("state", String(16), nullable=False, server_default="open"),
    Column("fd_ticket_id", BigInteger),
    Column("fd_requester_id", BigInteger),
    Column("fd_priority", Integer),
    Column("fd_tags", JSON),
    Column("fd_status", Integer),
)

freshdesk_ops = Table(
    "freshdesk_ops",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("ticket_id", Uuid, nullable=False),
    Column("brand", String(64), nullable=False),
    # create | note | update
    Column("kind", String(16), nullable=False),
    Column("payload", JSON, nullable=False),
    # pending → sending (leased) → done | failed
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("throttles", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True)),
    Column("ambiguous_since", DateTime(timezone=True)),
    Column("external_ref", String(64)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("done_at", DateTime(timezone=True)),
)

freshdesk_inbound = Table(
    "freshdesk_inbound",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("brand", String(64), nullable=False),
    Column("fd_ticket_id", BigInteger, nullable=False),
    Column("ticket_id", Uuid),
    Column("event_id", Uuid),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
