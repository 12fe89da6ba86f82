"""ingest: customers' phone numbers (the same-phone linking rule).

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("phone", sa.String(32)))
    op.create_index(
        "customers_by_phone", "customers", ["brand", "phone"], postgresql_where=sa.text("phone IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("customers_by_phone", "customers")
    op.drop_column("customers", "phone")
