"""assigner: each agent's open load kept by the database as tickets change (routing reads
200 agents' load per decision; counting their open tickets each time cost tens of ms at
50k open tickets), and an index for a customer's other tickets.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OPEN = "('assigned', 'pending')"


def upgrade() -> None:
    op.create_index("tickets_customer_only_idx", "tickets", ["customer_id"])
    op.create_table(
        "agent_load",
        sa.Column("agent_id", sa.String(64), primary_key=True),
        sa.Column("open", sa.Integer, nullable=False),
    )
    for statement in _STATEMENTS:
        op.execute(statement)


_STATEMENTS = (
    f"""
CREATE FUNCTION assigner_track_load() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.agent_id IS NOT NULL AND OLD.status IN {_OPEN} THEN
    UPDATE agent_load SET open = open - 1 WHERE agent_id = OLD.agent_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.agent_id IS NOT NULL AND NEW.status IN {_OPEN} THEN
    INSERT INTO agent_load AS l (agent_id, open) VALUES (NEW.agent_id, 1)
    ON CONFLICT (agent_id) DO UPDATE SET open = l.open + 1;
  END IF;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER tickets_load_insert AFTER INSERT ON tickets
  FOR EACH ROW EXECUTE FUNCTION assigner_track_load()""",
    """CREATE TRIGGER tickets_load_update AFTER UPDATE OF agent_id, status ON tickets
  FOR EACH ROW WHEN (OLD.agent_id IS DISTINCT FROM NEW.agent_id OR OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION assigner_track_load()""",
    """CREATE TRIGGER tickets_load_delete AFTER DELETE ON tickets
  FOR EACH ROW EXECUTE FUNCTION assigner_track_load()""",
    f"""INSERT INTO agent_load (agent_id, open)
  SELECT agent_id, count(*) FROM tickets WHERE agent_id IS NOT NULL AND status IN {_OPEN} GROUP BY agent_id""",
)


def downgrade() -> None:
    op.execute("DROP TRIGGER tickets_load_delete ON tickets")
    op.execute("DROP TRIGGER tickets_load_update ON tickets")
    op.execute("DROP TRIGGER tickets_load_insert ON tickets")
    op.execute("DROP FUNCTION assigner_track_load()")
    op.drop_table("agent_load")
    op.drop_index("tickets_customer_only_idx", "tickets")
