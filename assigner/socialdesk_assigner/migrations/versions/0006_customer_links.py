"""assigner: customers linked across channels into one profile (ingest's CustomerLinked and
CustomerUnlinked), so the ticket page shows every linked channel and the profile's tickets.

Revision ID: 0006_customer_links
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_customer_links"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_links",
        sa.Column("customer_id", sa.Uuid, primary_key=True),
        sa.Column("profile_id", sa.Uuid, nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_customer_links_profile_id", "customer_links", ["profile_id"])


def downgrade() -> None:
    op.drop_table("customer_links")
