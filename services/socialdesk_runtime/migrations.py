"""Alembic migrations, run at start by every service on its own database.

A service keeps its migrations in ``socialdesk_<svc>/migrations`` with a two-line
``env.py`` calling :func:`run_alembic_env`; its first revision calls
:func:`create_messaging_tables` for the runtime's inbox and outbox.

The runtime's own later changes to those tables (outbox retention) are a second Alembic
chain, ``socialdesk_runtime/runtime_migrations``, with its own version table, run after
the service's chain: a service never carries a copy of a runtime revision.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["create_messaging_tables", "run_alembic_env", "run_runtime_alembic_env", "upgrade_to_head"]

_RUNTIME_MIGRATIONS = Path(__file__).parent / "runtime_migrations"
_RUNTIME_VERSION_TABLE = "socialdesk_runtime_version"


def _alembic_config(script_location: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    return cfg


def _upgrade(conn: Connection, script_location: Path) -> None:
    # Several replicas may start at once: one migrates, the others wait, then find it done.
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(b"socialdesk-migrations")})
    cfg = _alembic_config(script_location)
    cfg.attributes["connection"] = conn
    # "heads": a service may keep one migration branch per concern (the notifier's Slack
    # threads and its Freshdesk sync grow independently from a common revision).
    command.upgrade(cfg, "heads")
    runtime_cfg = _alembic_config(_RUNTIME_MIGRATIONS)
    runtime_cfg.attributes["connection"] = conn
    command.upgrade(runtime_cfg, "head")


async def upgrade_to_head(engine: AsyncEngine, script_location: Path) -> None:
    """Bring the service's database to the newest revision."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, script_location)


def run_alembic_env(target_metadata: MetaData) -> None:
    """The body of every service's ``env.py`` (online mode, on the connection we pass in)."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "socialdesk migrations run at service start (upgrade_to_head), on the connection "
            "it passes in; the alembic command line is not supported"
        )
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_runtime_alembic_env() -> None:
    """The body of the runtime chain's ``env.py``: its own version table, no autogenerate."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("runtime migrations run at service start (upgrade_to_head)")
    context.configure(connection=connection, target_metadata=None, version_table=_RUNTIME_VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


def create_messaging_tables() -> None:
    """Create the runtime's inbox and outbox (call from a service's first revision)."""
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("event_id", sa.Uuid, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
