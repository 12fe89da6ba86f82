"""sla-monitor: runtime tables and timers.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from socialdesk_runtime.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "timers",
        sa.Column("ticket_id", sa.Uuid, nullable=False),
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("correlation_id", sa.Uuid, nullable=False),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("agent_level", sa.String(8)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("deadline", sa.DateTime(timezone=True)),
        sa.Column("warn_at", sa.DateTime(timezone=True)),
        sa.Column("warned", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("escalation_level", sa.String(8)),
        sa.Column("next_escalation_at", sa.DateTime(timezone=True)),
        sa.Column("stopped_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("ticket_id", "metric"),
    )
    # The scheduler's questions: what is due next, among live timers.
    op.create_index(
        "timers_armed_deadline_idx", "timers", ["deadline"], postgresql_where=sa.text("state = 'armed'")
    )
    op.create_index(
        "timers_armed_warn_idx",
        "timers",
        ["warn_at"],
        postgresql_where=sa.text("state = 'armed' AND NOT warned"),
    )
    op.create_index(
        "timers_breached_next_idx",
        "timers",
        ["next_escalation_at"],
        postgresql_where=sa.text("state = 'breached'"),
    )


def downgrade() -> None:
    op.drop_table("timers")
    op.drop_table("outbox")
    op.drop_table("inbox")
