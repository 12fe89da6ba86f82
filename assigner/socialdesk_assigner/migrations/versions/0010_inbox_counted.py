"""assigner: when a message typed in a platform's inbox was counted as its ticket's reply
(decision 0305 addendum), so a reopening never counts it twice. A nullable column with no
default: PostgreSQL adds it without rewriting or long-locking the table.

Revision ID: 0010_inbox_counted
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_inbox_counted"
down_revision = "0009_desk_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("desk_messages", sa.Column("counted_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("desk_messages", "counted_at")
