"""ingest: platform webhooks: raw deliveries awaiting extraction, facts seen, message
attachments, edits and deletions.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A webhook delivery is stored as it arrived and extracted later by the worker;
    # generic intake rows are extracted in their own request, so they start extracted.
    op.add_column("raw_deliveries", sa.Column("extracted_at", sa.DateTime(timezone=True)))
    op.add_column("raw_deliveries", sa.Column("extract_error", sa.Text))
    op.add_column("raw_deliveries", sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
    op.execute("UPDATE raw_deliveries SET extracted_at = received_at")
    op.create_index(
        "raw_deliveries_pending",
        "raw_deliveries",
        ["id"],
        postgresql_where=sa.text("extracted_at IS NULL"),
    )
    op.create_index("raw_deliveries_received_at", "raw_deliveries", ["received_at"])
    op.add_column("messages", sa.Column("attachments", postgresql.JSONB))
    op.add_column("messages", sa.Column("edited_at", sa.DateTime(timezone=True)))
    op.add_column("messages", sa.Column("deleted_at", sa.DateTime(timezone=True)))
    op.add_column(
        "messages", sa.Column("needs_enrichment", sa.Boolean, nullable=False, server_default="false")
    )
    op.create_index("messages_by_platform_id", "messages", ["platform_message_id"])
    op.create_table(
        "platform_facts",
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("fact_key", sa.String(600), nullable=False),
        sa.Column("ticket_id", sa.Uuid, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("brand", "platform", "fact_key", name="platform_facts_pkey"),
    )


def downgrade() -> None:
    op.drop_table("platform_facts")
    op.drop_index("messages_by_platform_id", "messages")
    for col in ("needs_enrichment", "deleted_at", "edited_at", "attachments"):
        op.drop_column("messages", col)
    op.drop_index("raw_deliveries_received_at", "raw_deliveries")
    op.drop_index("raw_deliveries_pending", "raw_deliveries")
    for col in ("attempts", "extract_error", "extracted_at"):
        op.drop_column("raw_deliveries", col)
