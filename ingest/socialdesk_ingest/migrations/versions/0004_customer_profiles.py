"""ingest: customer profiles (one customer across channels, linked identities).

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the customer is a profile of its own; set: linked into that profile.
    op.add_column("customers", sa.Column("profile_id", sa.Uuid))
    op.create_index("customers_by_profile", "customers", ["profile_id"])
    op.create_index("conversations_by_customer", "conversations", ["customer_id", "last_message_at"])


def downgrade() -> None:
    op.drop_index("conversations_by_customer", "conversations")
    op.drop_index("customers_by_profile", "customers")
    op.drop_column("customers", "profile_id")
