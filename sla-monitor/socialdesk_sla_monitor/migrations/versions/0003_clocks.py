"""sla-monitor: three clocks per ticket on calendars, pauses, what a ticket is about.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Which hours the clock counts ("24/7" or a calendar name) and its target in those hours.
    op.add_column("timers", sa.Column("calendar", sa.String(64), nullable=False, server_default="24/7"))
    op.add_column("timers", sa.Column("target_seconds", sa.Float))
    # A paused clock (the ticket waits on the customer) keeps the open time it had left.
    op.add_column("timers", sa.Column("paused_at", sa.DateTime(timezone=True)))
    op.add_column("timers", sa.Column("remaining_seconds", sa.Float))
    op.add_column("timers", sa.Column("kind", sa.String(16)))
    op.add_column("timers", sa.Column("category", sa.String(16)))
    # What each ticket is about, from its classification: policies match on it.
    op.create_table(
        "ticket_facts",
        sa.Column("ticket_id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ticket_facts")
    for column in ("category", "kind", "remaining_seconds", "paused_at", "target_seconds", "calendar"):
        op.drop_column("timers", column)
