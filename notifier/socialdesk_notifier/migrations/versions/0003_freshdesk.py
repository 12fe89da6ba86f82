"""notifier: the Freshdesk connector (issue 13): ticket mirror, ops log, inbound webhooks.

Revision ID: 0003_freshdesk
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_freshdesk"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "freshdesk_tickets",
        sa.Column("ticket_id", sa.Uuid, primary_key=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("customer_platform_user_id", sa.String(256), nullable=False),
        sa.Column("customer_name", sa.String(256)),
        sa.Column("first_text", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queue", sa.String(16)),
        sa.Column("category", sa.String(32)),
        sa.Column("priority", sa.String(16)),
        sa.Column("incident_group", sa.String(128)),
        sa.Column("state", sa.String(16), nullable=False, server_default="open"),
        sa.Column("fd_ticket_id", sa.BigInteger),
        sa.Column("fd_requester_id", sa.BigInteger),
        sa.Column("fd_priority", sa.Integer),
        sa.Column("fd_tags", sa.JSON),
        sa.Column("fd_status", sa.Integer),
    )
    op.create_index("freshdesk_tickets_fd_idx", "freshdesk_tickets", ["brand", "fd_ticket_id"])
    op.create_index(
        "freshdesk_tickets_open_idx",
        "freshdesk_tickets",
        ["brand", "opened_at"],
        postgresql_where=sa.text("state = 'open'"),
    )
    op.create_table(
        "freshdesk_ops",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("ticket_id", sa.Uuid, nullable=False),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("throttles", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("ambiguous_since", sa.DateTime(timezone=True)),
        sa.Column("external_ref", sa.String(64)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True)),
    )
    # The worker looks only at unfinished ops, a ticket's in id order.
    op.create_index(
        "freshdesk_ops_open_idx",
        "freshdesk_ops",
        ["ticket_id", "id"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index("freshdesk_ops_ref_idx", "freshdesk_ops", ["brand", "external_ref"])
    op.create_table(
        "freshdesk_inbound",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("fd_ticket_id", sa.BigInteger, nullable=False),
        sa.Column("ticket_id", sa.Uuid),
        sa.Column("event_id", sa.Uuid),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("freshdesk_inbound")
    op.drop_table("freshdesk_ops")
    op.drop_table("freshdesk_tickets")
