"""ingest: enrichment of id-only messages retried later (Instagram and Facebook mentions).

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("in_reply_to", sa.String(256)))
    op.add_column("messages", sa.Column("enrich_attempts", sa.Integer, nullable=False, server_default="0"))
    op.add_column("messages", sa.Column("next_enrich_at", sa.DateTime(timezone=True)))
    op.create_index(
        "messages_enrichment_due",
        "messages",
        ["next_enrich_at"],
        postgresql_where=sa.text("needs_enrichment"),
    )


def downgrade() -> None:
    op.drop_index("messages_enrichment_due", "messages")
    for col in ("next_enrich_at", "enrich_attempts", "in_reply_to"):
        op.drop_column("messages", col)
