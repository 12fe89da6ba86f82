"""Helpers of the shared runtime's integration tests (inbox, outbox relay, dead letters)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import Column, MetaData, String, Table, Uuid
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_runtime.db import UnitOfWork, create_engine, messaging_metadata
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_schemas import MessageReceived, TicketAssigned

#: For tests that hold database connections by hand (an outbox relay driven without run()):
#: a connection left checked out is collected as garbage with an SAWarning, which these
#: marks turn into a failure of the test (pytest reports it as an unraisable exception).
CONNECTIONS_RETURNED = (
    pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning"),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
)

_meta = MetaData()
seen = Table("seen", _meta, Column("event_id", Uuid, primary_key=True), Column("text", String(200)))


@asynccontextmanager
async def runtime_engine(url: str) -> AsyncIterator[AsyncEngine]:
    """A database with the runtime's inbox and outbox, and the ``seen`` table handlers write."""
    eng = create_engine(url, pool_size=5)
    async with eng.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
        await conn.run_sync(_meta.create_all)
    yield eng
    await eng.dispose()


async def record(event: MessageReceived, uow: UnitOfWork) -> None:
    """A handler: remembers the event, emits a follow-up, and chokes on poison."""
    if event.text == "poison":
        raise ValueError("this event cannot be handled")
    await uow.conn.execute(seen.insert().values(event_id=event.event_id, text=event.text))
    uow.emit(
        event.caused(
            TicketAssigned,
            producer="assigner",
            occurred_at=event.occurred_at,
            brand="ourbus",
            platform="x",
            agent_id="a",
            agent_level="L1",
            priority="low",
            received_at=event.received_at,
        )
    )


def consumed(metrics: RuntimeMetrics, outcome: str) -> float:
    return metrics.events_consumed.labels(outcome=outcome)._value.get()
