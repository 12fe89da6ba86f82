"""assigner: what a customer sent besides words (images, videos, stories, files), with the
platform's link, for the ticket page.

Revision ID: 0008_message_attachments
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008_message_attachments"
down_revision = "0007_breach_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("desk_messages", sa.Column("attachments", JSONB))


def downgrade() -> None:
    op.drop_column("desk_messages", "attachments")
