"""sla-monitor's own table: one durable timer per ticket and SLA metric."""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
)

metadata = MetaData()

timers = Table(
    "timers",
    metadata,
    Column("ticket_id", Uuid, nullable=False),
    Column("metric", String(32), nullable=False),
    Column("correlation_id", Uuid, nullable=False),
    Column("brand", String(64), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("agent_id", String(64)),
    Column("agent_level", String(8)),
    # armed → met (answered in time or late) | breached (escalating) ; cancelled
    Column("state", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("deadline", DateTime(timezone=True)),
    Column("warn_at", DateTime(timezone=True)),
    Column("warned", Boolean, nullable=False, server_default="false"),
    Column("escalation_level", String(8)),
    Column("next_escalation_at", DateTime(timezone=True)),
    Column("stopped_at", DateTime(timezone=True)),
    Column("group_id", String(64)),
    # Tightened once because its incident group became a hot topic.
    Column("hot", Boolean, nullable=False, server_default="false"),
    # "24/7" or a calendar name: the hours this clock counts, and its target in them.
    Column("calendar", String(64), nullable=False, server_default="24/7"),
    Column("target_seconds", Float),
    # Paused while the ticket waits on the customer, with the open time it had left.
    Column("paused_at", DateTime(timezone=True)),
    Column("remaining_seconds", Float),
    Column("kind", String(16)),
    Column("category", String(16)),
    PrimaryKeyConstraint("ticket_id", "metric"),
)

# What a ticket is about (its opening message's classification): policies match on it.
ticket_facts = Table(
    "ticket_facts",
    metadata,
    Column("ticket_id", Uuid, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("category", String(16), nullable=False),
)

hot_groups = Table(
    "hot_groups",
    metadata,
    Column("group_id", String(64), primary_key=True),
    Column("brand", String(64), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("volume", Integer, nullable=False),
)
