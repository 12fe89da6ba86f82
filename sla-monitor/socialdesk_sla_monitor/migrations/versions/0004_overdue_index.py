"""sla-monitor: the oldest overdue breach without scanning every timer.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "timers_breached_deadline_idx",
        "timers",
        ["deadline"],
        postgresql_where=sa.text("state = 'breached'"),
    )


def downgrade() -> None:
    op.drop_index("timers_breached_deadline_idx", table_name="timers")
