"""sla-monitor's own table: one durable timer per ticket and SLA metric."""

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, PrimaryKeyConstraint, String, Table, Uuid

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
    PrimaryKeyConstraint("ticket_id", "metric"),
)

hot_groups = Table(
    "hot_groups",
    metadata,
    Column("group_id", String(64), primary_key=True),
    Column("brand", String(64), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("volume", Integer, nullable=False),
)
