"""assigner: the history's breach lines by time (reports count breaches from them: one per
breach, against whoever owned the ticket then, kept when a clock is re-armed).

Revision ID: 0007_breach_history
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_breach_history"
down_revision = "0006_customer_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "history_breaches_by_time", "history", ["at"], postgresql_where=sa.text("kind = 'SlaBreached'")
    )


def downgrade() -> None:
    op.drop_index("history_breaches_by_time", "history")
