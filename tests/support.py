"""Helpers shared by the integration and end-to-end tests (no fixtures: see conftest)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig, load_config
from socialdesk_runtime.db import UnitOfWorkFactory, create_engine, outbox_table
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_runtime.migrations import upgrade_to_head
from socialdesk_runtime.service import ServiceSpec
from socialdesk_schemas import Event, decode_event

TEST_CONFIG = Path(__file__).parent / "data" / "socialdesk.test.yaml"

TEST_ENV: dict[str, str] = {
    "TEST_INGEST_API_KEYS": "key-one,key-two",
    "T_ANA": "tok-ana",
    "T_BEN": "tok-ben",
    "T_CID": "tok-cid",
    "T_DEE": "tok-dee",
    "T_LEAD": "tok-lead",
    "T_MGR": "tok-mgr",
    "T_HUGO": "tok-hugo",
    "T_RALEAD": "tok-ralead",
}


def config_for_tests(env: Mapping[str, str] | None = None) -> SocialdeskConfig:
    return load_config(TEST_CONFIG, env={**TEST_ENV, **(env or {})})


@asynccontextmanager
async def service_store(url: str, spec: ServiceSpec) -> AsyncIterator[tuple[AsyncEngine, UnitOfWorkFactory]]:
    """A service's database, migrated like the service does at start."""
    engine = create_engine(url, pool_size=5)
    try:
        await upgrade_to_head(engine, spec.migrations)
        yield engine, UnitOfWorkFactory(engine)
    finally:
        await engine.dispose()


async def outbox_events(engine: AsyncEngine) -> list[Event]:
    """What a unit of work left in the outbox, decoded, in publication order."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox_table.c.value).order_by(outbox_table.c.id))).all()
    return [decode_event(r.value) for r in rows]


async def clear_outbox(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM outbox"))


async def count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


def metrics(service: str) -> RuntimeMetrics:
    return RuntimeMetrics.create(service)


def uid() -> str:
    return uuid.uuid4().hex[:12]


def envelope(clock: Clock, ticket_id: uuid.UUID | None = None, **over: Any) -> dict[str, Any]:
    now: datetime = clock.now()
    return {
        "producer": "test",
        "occurred_at": now,
        "ticket_id": ticket_id or uuid.uuid4(),
        "correlation_id": uuid.uuid4(),
        **over,
    }
