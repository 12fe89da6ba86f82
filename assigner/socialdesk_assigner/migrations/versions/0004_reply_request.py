"""assigner: a reply remembers the ``ReplyRequested`` event that asked for it, so a delivery
reported against that event (the notifier's local sink when no platform credentials are
set) finds its reply.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("replies", sa.Column("request_event_id", sa.Uuid))
    op.create_index("replies_request_event_idx", "replies", ["request_event_id"])


def downgrade() -> None:
    op.drop_index("replies_request_event_idx", "replies")
    op.drop_column("replies", "request_event_id")
