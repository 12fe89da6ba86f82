"""ingest: other ids of a platform user (WhatsApp: the business-scoped id of a user known by
phone), so a user who later hides their number stays the same customer.

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_aliases",
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("alias", sa.String(256), nullable=False),
        sa.Column("platform_user_id", sa.String(256), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("brand", "platform", "alias", name="platform_aliases_pkey"),
    )


def downgrade() -> None:
    op.drop_table("platform_aliases")
