"""notifier: Slack tickets, threads and clicks (issue 11).

Revision ID: 0003_slack
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_slack"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_tickets",
        sa.Column("ticket_id", sa.Uuid, primary_key=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("correlation_id", sa.Uuid),
        sa.Column("platform", sa.String(16)),
        sa.Column("handle", sa.String(256)),
        sa.Column("excerpt", sa.Text),
        sa.Column("category", sa.String(32)),
        sa.Column("priority", sa.String(16)),
        sa.Column("queue", sa.String(16)),
        sa.Column("owner_agent_id", sa.String(64)),
        sa.Column("level", sa.String(8)),
        sa.Column("deadline", sa.DateTime(timezone=True)),
        sa.Column("state", sa.String(16), nullable=False, server_default="open"),
        sa.Column("acknowledged_by", sa.String(64)),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "slack_threads",
        sa.Column("ticket_id", sa.Uuid, primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("parent_delivery_id", sa.Uuid, nullable=False),
        sa.Column("parent_ts", sa.String(32)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "slack_clicks",
        sa.Column("click_id", sa.String(128), primary_key=True),
        sa.Column("ticket_id", sa.Uuid, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    # The digest looks for a flood of pending Slack posts per channel.
    op.create_index(
        "deliveries_slack_pending_idx",
        "deliveries",
        ["destination", "created_at"],
        postgresql_where=sa.text("status = 'pending' AND channel = 'slack'"),
    )


def downgrade() -> None:
    op.drop_index("deliveries_slack_pending_idx", "deliveries")
    op.drop_table("slack_clicks")
    op.drop_table("slack_threads")
    op.drop_table("slack_tickets")
