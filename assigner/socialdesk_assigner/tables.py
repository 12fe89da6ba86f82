"""assigner's own tables: ticket work state, replies, the round-robin cursor, and the desk's
read model (conversations, classifications, customers, SLA clocks) fed by events, with
notes, history, follow-ups, presence, idempotency keys and the desk's sign-in sessions."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Identity,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    and_,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()
_TS = DateTime(timezone=True)

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
    # open (unowned, waiting), assigned, pending (on the customer), marketing, dismissed, resolved
    Column("status", String(16), nullable=False),
    Column("agent_id", String(64)),
    Column("customer_id", Uuid, nullable=False),
    Column("correlation_id", Uuid, nullable=False),
    Column("recipient_platform_user_id", String(256), nullable=False),
    Column("last_platform_message_id", String(256), nullable=False),
    Column("received_at", _TS, nullable=False),
    Column("first_response_at", _TS),
    Column("resolved_at", _TS),
    Column("root_cause", Text),
    Column("message_count", Integer, nullable=False, server_default="1"),
    Column("group_id", String(128)),
    Column("language", String(16), nullable=False, server_default="en"),
    Column("escalation_level", String(8)),
    Column("watchers", ARRAY(String(64)), nullable=False, server_default="{}"),
    Column("last_activity_at", _TS),
    # read model, from sla.events: the earliest running clock's due time, and warned/breached
    Column("sla_due_at", _TS),
    Column("sla_state", String(16)),
)

replies = Table(
    "replies",
    metadata,
    Column("reply_id", Uuid, primary_key=True),
    Column("ticket_id", Uuid, nullable=False, index=True),
    Column("agent_id", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", _TS, nullable=False),
    # pending_approval, rejected, requested, sent, delivered, read, failed
    Column("status", String(24), nullable=False, server_default="requested"),
    Column("status_at", _TS),
    Column("origin", String(24), nullable=False, server_default="agent"),
    Column("platform_message_id", String(256)),
    Column("failure_reason", Text),
    Column("template_key", String(64)),
    Column("approved_by", String(64)),
    Column("rejected_reason", Text),
    Column("request_event_id", Uuid),
)

rr_cursor = Table(
    "rr_cursor",
    metadata,
    Column("brand", String(64), primary_key=True),
    Column("last_agent_id", String(64), nullable=False),
)

desk_messages = Table(
    "desk_messages",
    metadata,
    Column("message_id", Uuid, primary_key=True),
    Column("ticket_id", Uuid, nullable=False),
    Column("direction", String(16), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("kind", String(16)),
    Column("platform_message_id", String(256), nullable=False),
    Column("author_id", String(256)),
    Column("author_name", String(256)),
    Column("text", Text, nullable=False),
    Column("original_text", Text),
    Column("at", _TS, nullable=False),
    Column("edited_at", _TS),
    Column("deleted_at", _TS),
    # [{type, url, id}] of what the customer sent besides words (MessageReceived.attachments)
    Column("attachments", JSONB),
    # a message typed in a platform's inbox: when it was counted as the ticket's reply (once)
    Column("counted_at", _TS),
)

classifications = Table(
    "classifications",
    metadata,
    Column("message_id", Uuid, primary_key=True),
    Column("ticket_id", Uuid, nullable=False),
    Column("queue", String(16), nullable=False),
    Column("category", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("sentiment", String(16), nullable=False),
    Column("language", String(16), nullable=False),
    Column("reasons", JSONB, nullable=False),
    Column("confidence", JSONB, nullable=False),
    Column("auto_reply", String(64)),
    Column("classifier_version", String(64), nullable=False),
    Column("at", _TS, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", Uuid, primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("platform_user_id", String(256), nullable=False),
    Column("handle", String(256)),
    Column("display_name", String(256)),
    Column("followers", Integer),
    Column("last_seen_at", _TS, nullable=False),
)

sla_clocks = Table(
    "sla_clocks",
    metadata,
    Column("ticket_id", Uuid, primary_key=True),
    Column("clock", String(24), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("due_at", _TS),
    Column("warn_at", _TS),
    Column("armed_at", _TS),
    Column("warned_at", _TS),
    Column("breached_at", _TS),
    Column("stopped_at", _TS),
)

notes = Table(
    "notes",
    metadata,
    Column("note_id", Uuid, primary_key=True),
    Column("ticket_id", Uuid, nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("kind", String(16), nullable=False, server_default="note"),
    Column("added_at", _TS, nullable=False),
)

history = Table(
    "history",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("ticket_id", Uuid, nullable=False),
    Column("at", _TS, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("actor", String(64)),
    Column("detail", Text, nullable=False, server_default=""),
)

follow_ups = Table(
    "follow_ups",
    metadata,
    Column("follow_up_id", Uuid, primary_key=True),
    Column("ticket_id", Uuid, nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("due_at", _TS, nullable=False),
    Column("note", Text, nullable=False),
    Column("promised_at", _TS, nullable=False),
)

presence = Table(
    "presence",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("since", _TS, nullable=False),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", JSONB, nullable=False),
    Column("created_at", _TS, nullable=False),
)

incident_groups = Table(
    "incident_groups",
    metadata,
    Column("brand", String(64), primary_key=True),
    Column("group_id", String(128), primary_key=True),
    Column("volume", Integer, nullable=False),
    Column("sample_text", Text),
    Column("updated_at", _TS, nullable=False),
)

spikes = Table(
    "spikes",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("brand", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("volume", Integer, nullable=False),
    Column("baseline_volume", Float, nullable=False),
    Column("negative_share", Float, nullable=False),
    Column("at", _TS, nullable=False),
)

#: Each agent's open (assigned, pending) tickets, kept by triggers on ``tickets``.
agent_load = Table(
    "agent_load",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("open", Integer, nullable=False),
)

#: Which profile each customer belongs to (ingest's CustomerLinked / CustomerUnlinked): the
#: ticket page shows a customer on every linked channel, with the profile's other tickets.
customer_links = Table(
    "customer_links",
    metadata,
    Column("customer_id", Uuid, primary_key=True),
    Column("profile_id", Uuid, nullable=False, index=True),
    Column("linked_at", _TS, nullable=False),
)

#: A sign-in to the desk's pages (decision 0304): the SHA-256 of the browser's secret, never
#: the secret; valid until revoked (signed out, replaced) or ``expires_at`` (as of its last
#: use: idle or lifetime, whichever comes first), then pruned by the desk worker.
desk_sessions = Table(
    "desk_sessions",
    metadata,
    Column("secret_hash", String(64), primary_key=True),
    Column("agent_id", String(64), nullable=False, index=True),
    Column("token_binding", String(64), nullable=False),
    Column("created_at", _TS, nullable=False),
    Column("last_seen_at", _TS, nullable=False),
    Column("expires_at", _TS, nullable=False, index=True),
    Column("revoked_at", _TS),
)

#: Each ticket with its incident group's trend (volume, sample) where the classifier told one.
tickets_with_trends = tickets.outerjoin(
    incident_groups,
    and_(incident_groups.c.brand == tickets.c.brand, incident_groups.c.group_id == tickets.c.group_id),
)
