from socialdesk_runtime.migrations import run_alembic_env
from socialdesk_sla_monitor.tables import metadata

run_alembic_env(metadata)
