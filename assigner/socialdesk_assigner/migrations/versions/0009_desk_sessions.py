"""assigner: sign-ins to the desk's pages kept by the desk (decision 0304): the hash of the
browser's secret, whose they are, when they end, and whether they were signed out.

Revision ID: 0009_desk_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_desk_sessions"
down_revision = "0008_message_attachments"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "desk_sessions",
        sa.Column("secret_hash", sa.String(64), primary_key=True),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("token_binding", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS),
    )
    op.create_index("ix_desk_sessions_agent_id", "desk_sessions", ["agent_id"])
    op.create_index("ix_desk_sessions_expires_at", "desk_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("desk_sessions")
