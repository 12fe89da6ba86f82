"""One relay per database: a relay whose lock connection dropped stops publishing (issue 7.8).

The advisory lock lives on one connection. If that connection drops, PostgreSQL frees the
lock and another replica's relay takes it; the first must not go on publishing, or two
relays interleave (and double) a ticket's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_runtime.db import UnitOfWorkFactory, create_engine, messaging_metadata
from socialdesk_runtime.embedded import EmbeddedKafka
from socialdesk_runtime.kafka import make_producer
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_runtime.outbox import OutboxRelay
from socialdesk_runtime.tests.events import received
from tests.integration.runtime_helpers import CONNECTIONS_RETURNED

pytestmark = [pytest.mark.integration, *CONNECTIONS_RETURNED]


@pytest.fixture
async def engine(fresh_db: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(fresh_db, pool_size=5)
    async with eng.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
    yield eng
    await eng.dispose()


async def _drop_lock_holder(engine: AsyncEngine) -> int:
    """Terminate the backend holding this database's advisory lock (a dropped connection).

    With a timeout, pg_terminate_backend waits until the backend is gone and its locks with
    it; without, it only signals it, and a relay asking at once found the lock still held
    about one time in ten."""
    async with engine.connect() as conn:
        killed = await conn.execute(
            text(
                "SELECT pg_terminate_backend(l.pid, 5000) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
            )
        )
        return sum(1 for (gone,) in killed.all() if gone)


async def _pending(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        q = text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return int((await conn.execute(q)).scalar_one())


async def test_a_relay_that_lost_its_lock_connection_publishes_nothing_until_it_holds_it_again(
    kafka: EmbeddedKafka, engine: AsyncEngine
) -> None:
    producer = make_producer(kafka.bootstrap_servers, client_id="lock-test")
    await producer.start()
    first = OutboxRelay(engine, producer, RuntimeMetrics.create(f"a{uuid.uuid4().hex[:6]}"))
    second = OutboxRelay(engine, producer, RuntimeMetrics.create(f"b{uuid.uuid4().hex[:6]}"))
    try:
        assert await first.publish_pending() == 0
        assert first.holds_lock
        assert await second.publish_pending() == 0
        assert not second.holds_lock, "one relay per database"

        assert await _drop_lock_holder(engine) == 1
        assert await second.publish_pending() == 0
        assert second.holds_lock, "the lock was freed with the connection; the other replica takes it"

        async with UnitOfWorkFactory(engine)() as uow:
            for i in range(10):
                uow.emit(received(text=f"m{i}"))
            await uow.commit()

        # The first relay still thinks it holds the lock; its next batch must not go out.
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the dead connection raises
            await first.publish_pending()
        assert not first.holds_lock
        assert await _pending(engine) == 10, "the relay without the lock published nothing"
        assert await first.publish_pending() == 0, "and it does not get the lock back while another holds it"

        assert await second.publish_pending() == 10
        assert await _pending(engine) == 0
    finally:
        # Relays driven by hand keep their lock connection (run() lets it go when it stops).
        for relay in (first, second):
            await relay.close()
        await producer.stop()


async def test_a_relay_cancelled_while_it_runs_gives_its_lock_back(
    kafka: EmbeddedKafka, engine: AsyncEngine
) -> None:
    producer = make_producer(kafka.bootstrap_servers, client_id="lock-cancel-test")
    await producer.start()
    first = OutboxRelay(
        engine, producer, RuntimeMetrics.create(f"c{uuid.uuid4().hex[:6]}"), poll_seconds=0.05
    )
    second = OutboxRelay(engine, producer, RuntimeMetrics.create(f"d{uuid.uuid4().hex[:6]}"))
    task = asyncio.create_task(first.run())
    try:
        for _ in range(100):
            if first.holds_lock:
                break
            await asyncio.sleep(0.05)
        assert first.holds_lock
        task.cancel()  # not stop(): a shutdown past its grace period
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert not first.holds_lock
        assert await second.publish_pending() == 0
        assert second.holds_lock, "the cancelled relay's lock was given back at once"
    finally:
        task.cancel()
        await second.close()
        await producer.stop()
