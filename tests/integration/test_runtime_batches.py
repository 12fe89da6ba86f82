"""``process_batch`` without a broker: a batch handler's poison, transient failures, and
events of a type nobody knows."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.consumer import Batch, process_batch
from socialdesk_runtime.db import UnitOfWork, UnitOfWorkFactory
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_runtime.tests.events import consumer_records, received
from socialdesk_schemas import MessageReceived, dead_letter_topic, encode_event
from tests.integration.runtime_helpers import consumed, record, runtime_engine, seen

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(fresh_db: str) -> AsyncIterator[AsyncEngine]:
    async with runtime_engine(fresh_db) as eng:
        yield eng


async def record_all(events: list[MessageReceived], uow: UnitOfWork) -> None:
    """A batch handler: one statement for the whole run, as the services' batch handlers do."""
    for event in events:
        if event.text == "poison":
            # Not a network error: poison, even though it is an OSError (see errors.py).
            raise FileNotFoundError(2, "No such file or directory", "/templates/poison.txt")
        if event.text == "network":
            raise ConnectionResetError(104, "Connection reset by peer")
    await uow.conn.execute(seen.insert(), [{"event_id": e.event_id, "text": e.text} for e in events])


async def _batch(
    engine: AsyncEngine, events: list[MessageReceived], metrics: RuntimeMetrics
) -> dict[str, int]:
    return await process_batch(
        consumer_records([encode_event(e) for e in events]),
        service="classifier",
        handlers={MessageReceived: Batch(record_all)},
        uow_factory=UnitOfWorkFactory(engine),
        clock=FakeClock(),
        metrics=metrics,
    )


async def test_batch_handler_poison_is_isolated_and_the_partition_moves_on(engine: AsyncEngine) -> None:
    metrics = RuntimeMetrics.create("batchpoison")
    events = [received(text=t) for t in ("b0", "b1", "poison", "b3", "b4")]

    counts = await _batch(engine, events, metrics)  # returns: the loop commits the offsets

    assert counts == {"duplicate": 0, "processed": 4, "deadlettered": 1}
    async with engine.connect() as conn:
        stored = sorted(r.text for r in await conn.execute(select(seen.c.text)))
        outbox = (await conn.execute(text("SELECT topic, value FROM outbox ORDER BY id"))).all()
    assert stored == ["b0", "b1", "b3", "b4"], "the rest of the batch was processed and committed"
    dead = [orjson.loads(r.value) for r in outbox if r.topic == dead_letter_topic("classifier").name]
    assert [d["reason"] for d in dead] == ["handler"]
    assert "FileNotFoundError" in dead[0]["error"]
    assert orjson.loads(dead[0]["payload"])["event_id"] == str(events[2].event_id)
    assert metrics.deadletter_events.labels(reason="handler")._value.get() == 1

    # Redelivered (no offset commit yet, a rebalance): nothing runs twice, poison included.
    assert await _batch(engine, events, metrics) == {"duplicate": 5, "processed": 0, "deadlettered": 0}


async def test_transient_failure_of_a_batch_commits_nothing_and_is_retried(engine: AsyncEngine) -> None:
    events = [received(text="t0"), received(text="network"), received(text="t2")]

    with pytest.raises(ConnectionResetError):
        await _batch(engine, events, RuntimeMetrics.create("batchtransient"))

    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM seen"))).scalar_one() == 0
        assert (await conn.execute(text("SELECT count(*) FROM inbox"))).scalar_one() == 0, (
            "retry sees them new"
        )
        assert (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one() == 0, (
            "nothing dead-lettered"
        )


async def test_unknown_event_type_is_counted_and_logged_with_its_type(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = RuntimeMetrics.create("unknowntype")
    future = orjson.dumps({"event_type": "TicketTeleported", "event_id": str(uuid.uuid4())})
    with caplog.at_level(logging.DEBUG, logger="socialdesk_runtime.consumer"):
        counts = await process_batch(
            consumer_records([future]),
            service="classifier",
            handlers={MessageReceived: record},
            uow_factory=UnitOfWorkFactory(engine),
            clock=FakeClock(),
            metrics=metrics,
        )
    assert counts["ignored_unknown_type"] == 1
    assert consumed(metrics, "ignored_unknown_type") == 1
    assert any("'TicketTeleported'" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)


async def test_an_autocommit_unit_of_work_commits_each_statement_and_cannot_emit(engine: AsyncEngine) -> None:
    uow_factory = UnitOfWorkFactory(engine, service="classifier")
    txid = text("SELECT txid_current()")
    txids: list[int] = []

    async def insert_then_fail() -> None:
        async with uow_factory.autocommit() as uow:
            txids.extend([await uow.conn.scalar(txid), await uow.conn.scalar(txid)])
            await uow.conn.execute(seen.insert(), [{"event_id": uuid.uuid4(), "text": "kept"}])
            with pytest.raises(RuntimeError, match="cannot emit"):
                uow.emit(received())
            raise ZeroDivisionError  # nothing is rolled back: the insert committed on its own

    with pytest.raises(ZeroDivisionError):
        await insert_then_fail()
    assert txids[0] != txids[1], "each statement is its own transaction: no BEGIN, no COMMIT"
    async with engine.connect() as conn:
        assert (await conn.execute(select(seen.c.text))).scalars().all() == ["kept"]
    async with uow_factory() as uow:  # the pool's connections are transactional again
        assert await uow.conn.scalar(txid) == await uow.conn.scalar(txid)
