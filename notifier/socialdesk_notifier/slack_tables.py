"""The notifier's Slack tables (issue 11, migration 0003_slack): what it knows of each
ticket to fill its messages, the thread it keeps per ticket and channel, and the button
clicks it already acted on."""

from sqlalchemy import Column, DateTime, String, Table, Text, Uuid

from socialdesk_notifier.tables import metadata

__all__ = ["slack_clicks", "slack_threads", "slack_tickets"]

#: Facts of a ticket from the events the notifier consumes; any column may still be unknown.
slack_tickets = Table(
    "slack_tickets",
    metadata,
    Column("ticket_id", Uuid, primary_key=True),
    Column("brand", String(64), nullable=False),
    Column("correlation_id", Uuid),
    Column("platform", String(16)),
    Column("handle", String(256)),
    Column("excerpt", Text),
    Column("category", String(32)),
    Column("priority", String(16)),
    Column("queue", String(16)),
    Column("owner_agent_id", String(64)),
    Column("level", String(8)),
    Column("deadline", DateTime(timezone=True)),
    # open | answered | resolved
    Column("state", String(16), nullable=False, server_default="open"),
    Column("acknowledged_by", String(64)),
    Column("claimed_by", String(64)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: One thread per ticket and channel: the delivery that is (or will be) its parent, and its ts.
slack_threads = Table(
    "slack_threads",
    metadata,
    Column("ticket_id", Uuid, primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("parent_delivery_id", Uuid, nullable=False),
    Column("parent_ts", String(32)),
    Column("kind", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: Button clicks acted on, by Slack's action ts (a double click or a Slack retry is one effect).
slack_clicks = Table(
    "slack_clicks",
    metadata,
    Column("click_id", String(128), primary_key=True),
    Column("ticket_id", Uuid, nullable=False),
    Column("action", String(32), nullable=False),
    Column("slack_user_id", String(32), nullable=False),
    Column("agent_id", String(64)),
    Column("outcome", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
