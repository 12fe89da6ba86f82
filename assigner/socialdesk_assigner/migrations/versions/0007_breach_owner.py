"""assigner: who owned a ticket when its clock breached (reports count the breach against
them, not against whoever owns the ticket after the escalation).

Revision ID: 0007_breach_owner
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_breach_owner"
down_revision = "0006_customer_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sla_clocks", sa.Column("breached_agent_id", sa.String(64)))


def downgrade() -> None:
    op.drop_column("sla_clocks", "breached_agent_id")
