"""assigner: the agents' desk (issue 9): the read model of conversations, SLA clocks and
deliveries fed by events; notes, history, presence, follow-ups, idempotency keys.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("tickets", sa.Column("group_id", sa.String(128)))
    op.add_column("tickets", sa.Column("language", sa.String(16), nullable=False, server_default="en"))
    op.add_column("tickets", sa.Column("escalation_level", sa.String(8)))
    op.add_column(
        "tickets",
        sa.Column("watchers", pg.ARRAY(sa.String(64)), nullable=False, server_default="{}"),
    )
    op.add_column("tickets", sa.Column("last_activity_at", _TS))
    op.add_column("tickets", sa.Column("sla_due_at", _TS))
    op.add_column("tickets", sa.Column("sla_state", sa.String(16)))
    op.create_index("tickets_brand_status_due_idx", "tickets", ["brand", "status", "sla_due_at"])
    op.create_index("tickets_group_idx", "tickets", ["group_id"])

    op.add_column("replies", sa.Column("status", sa.String(24), nullable=False, server_default="requested"))
    op.add_column("replies", sa.Column("status_at", _TS))
    op.add_column("replies", sa.Column("origin", sa.String(24), nullable=False, server_default="agent"))
    op.add_column("replies", sa.Column("platform_message_id", sa.String(256)))
    op.add_column("replies", sa.Column("failure_reason", sa.Text))
    op.add_column("replies", sa.Column("template_key", sa.String(64)))
    op.add_column("replies", sa.Column("approved_by", sa.String(64)))
    op.add_column("replies", sa.Column("rejected_reason", sa.Text))
    op.create_index("replies_status_idx", "replies", ["status"])

    op.create_table(
        "desk_messages",
        sa.Column("message_id", sa.Uuid, primary_key=True),
        sa.Column("ticket_id", sa.Uuid, nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),  # customer, agent_inbox
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16)),
        sa.Column("platform_message_id", sa.String(256), nullable=False),
        sa.Column("author_id", sa.String(256)),
        sa.Column("author_name", sa.String(256)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("original_text", sa.Text),
        sa.Column("at", _TS, nullable=False),
        sa.Column("edited_at", _TS),
        sa.Column("deleted_at", _TS),
    )
    op.create_index("desk_messages_ticket_idx", "desk_messages", ["ticket_id", "at"])
    op.create_index("desk_messages_platform_id_idx", "desk_messages", ["platform_message_id"])
    op.create_table(
        "classifications",
        sa.Column("message_id", sa.Uuid, primary_key=True),
        sa.Column("ticket_id", sa.Uuid, nullable=False, index=True),
        sa.Column("queue", sa.String(16), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("sentiment", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("reasons", pg.JSONB, nullable=False),
        sa.Column("confidence", pg.JSONB, nullable=False),
        sa.Column("auto_reply", sa.String(64)),
        sa.Column("classifier_version", sa.String(64), nullable=False),
        sa.Column("at", _TS, nullable=False),
    )
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.Uuid, primary_key=True),
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("platform_user_id", sa.String(256), nullable=False),
        sa.Column("handle", sa.String(256)),
        sa.Column("display_name", sa.String(256)),
        sa.Column("followers", sa.Integer),
        sa.Column("last_seen_at", _TS, nullable=False),
    )
    op.create_table(
        "sla_clocks",
        sa.Column("ticket_id", sa.Uuid, primary_key=True),
        sa.Column("clock", sa.String(24), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),  # armed, warned, breached, met, ...
        sa.Column("due_at", _TS),
        sa.Column("warn_at", _TS),
        sa.Column("armed_at", _TS),
        sa.Column("warned_at", _TS),
        sa.Column("breached_at", _TS),
        sa.Column("stopped_at", _TS),
    )
    op.create_table(
        "notes",
        sa.Column("note_id", sa.Uuid, primary_key=True),
        sa.Column("ticket_id", sa.Uuid, nullable=False, index=True),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default="note"),
        sa.Column("added_at", _TS, nullable=False),
    )
    op.create_table(
        "history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("ticket_id", sa.Uuid, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(64)),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("history_ticket_idx", "history", ["ticket_id", "id"])
    op.create_table(
        "follow_ups",
        sa.Column("follow_up_id", sa.Uuid, primary_key=True),
        sa.Column("ticket_id", sa.Uuid, nullable=False, index=True),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("due_at", _TS, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("promised_at", _TS, nullable=False),
    )
    op.create_table(
        "presence",
        sa.Column("agent_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("since", _TS, nullable=False),
    )
    op.create_table(
        "idempotency",
        sa.Column("agent_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("body", pg.JSONB, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "incident_groups",
        sa.Column("brand", sa.String(64), primary_key=True),
        sa.Column("group_id", sa.String(128), primary_key=True),
        sa.Column("volume", sa.Integer, nullable=False),
        sa.Column("sample_text", sa.Text),
        sa.Column("updated_at", _TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "incident_groups",
        "idempotency",
        "presence",
        "follow_ups",
        "history",
        "notes",
        "sla_clocks",
        "customers",
        "classifications",
        "desk_messages",
    ):
        op.drop_table(table)
    for column in (
        "rejected_reason",
        "approved_by",
        "template_key",
        "failure_reason",
        "platform_message_id",
        "origin",
        "status_at",
        "status",
    ):
        op.drop_column("replies", column)
    op.drop_index("tickets_group_idx", "tickets")
    op.drop_index("tickets_brand_status_due_idx", "tickets")
    for column in (
        "sla_state",
        "sla_due_at",
        "last_activity_at",
        "watchers",
        "escalation_level",
        "language",
        "group_id",
    ):
        op.drop_column("tickets", column)
