from socialdesk_notifier.tables import metadata
from socialdesk_runtime.migrations import run_alembic_env

run_alembic_env(metadata)
