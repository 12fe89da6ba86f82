"""ingest: conversations by ticket (a reply to one of our own public messages finds the
thread of the ticket that message answered).

Revision ID: 0007
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("conversations_by_ticket", "conversations", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("conversations_by_ticket", "conversations")
