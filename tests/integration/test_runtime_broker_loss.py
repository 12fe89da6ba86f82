"""A broker that loses what it acknowledged: the relay notices and publishes it again.

Each test runs its own Tansu broker (memory storage), so killing it and starting it again
on the same port is exactly the restart-empty of issue 7, item 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_runtime.broker_watch import BrokerWatch
from socialdesk_runtime.db import UnitOfWorkFactory, create_engine, messaging_metadata
from socialdesk_runtime.embedded import EmbeddedKafka
from socialdesk_runtime.kafka import create_topics, make_producer
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_runtime.outbox import OutboxRelay
from socialdesk_runtime.tests.events import received
from socialdesk_schemas import TOPICS
from tests.integration.test_runtime import drain

pytestmark = pytest.mark.integration


class _BareKafka(EmbeddedKafka):
    """A Tansu broker started without creating the registry's topics (a raw restart)."""

    async def _await_ready(self, deadline: float) -> None:
        from socialdesk_runtime.embedded.kafka import _wait_for_metadata

        await _wait_for_metadata(self.bootstrap_servers, deadline=deadline, alive=self.is_running)


@pytest.fixture
def own_kafka() -> Iterator[EmbeddedKafka]:
    broker = EmbeddedKafka()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
async def engine(fresh_db: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(fresh_db, pool_size=5)
    async with eng.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
    yield eng
    await eng.dispose()


async def _emit(engine: AsyncEngine, ticket: uuid.UUID, texts: list[str]) -> None:
    async with UnitOfWorkFactory(engine)() as uow:
        for t in texts:
            uow.emit(received(ticket_id=ticket, text=t))
        await uow.commit()


def _texts(ticket: uuid.UUID, values: list[bytes]) -> list[str]:
    out = []
    for v in values:
        try:
            d = orjson.loads(v)
        except orjson.JSONDecodeError:
            continue  # another test's deliberately malformed record on the shared broker
        if isinstance(d, dict) and d.get("ticket_id") == str(ticket):
            out.append(d["text"])
    return out


async def _pending(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        q = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        return int((await conn.execute(text(q))).scalar_one())


@contextlib.asynccontextmanager
async def _running_relay(engine: AsyncEngine, bootstrap: str) -> AsyncIterator[OutboxRelay]:
    producer = make_producer(bootstrap, client_id="loss-test")
    await producer.start()
    relay = OutboxRelay(
        engine,
        producer,
        RuntimeMetrics.create(f"t{uuid.uuid4().hex[:6]}"),
        watch=BrokerWatch(bootstrap),
        check_seconds=0.2,
        poll_seconds=0.05,
    )
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        relay.stop()
        await asyncio.wait_for(task, 30)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producer.stop(), 10)


async def _until(condition: object, timeout: float = 30.0) -> None:
    assert callable(condition)
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_broker_restarted_empty_gets_every_acknowledged_record_again(
    own_kafka: EmbeddedKafka, engine: AsyncEngine
) -> None:
    ticket = uuid.uuid4()
    async with _running_relay(engine, own_kafka.bootstrap_servers) as relay:
        await _emit(engine, ticket, [f"a{i}" for i in range(30)])
        relay.notify()

        async def all_published() -> bool:
            return await _pending(engine) == 0

        await _until(all_published)
        # The broker dies with everything it acknowledged and comes back empty, on the
        # same port, topics recreated (as the launcher does).
        port = own_kafka.port
        own_kafka.kill()
        reborn = EmbeddedKafka(port=port)
        reborn.start()
        try:
            await _emit(engine, ticket, [f"b{i}" for i in range(5)])
            relay.notify()

            async def republished() -> bool:
                return relay.republished >= 30 and await _pending(engine) == 0

            await _until(republished)
            values = await drain(
                reborn, TOPICS.messages.name, until=lambda got: len(_texts(ticket, got)) >= 35
            )
        finally:
            relay.stop()
    texts = _texts(ticket, values)
    assert set(texts) == {f"a{i}" for i in range(30)} | {f"b{i}" for i in range(5)}, "nothing lost"
    # Order per ticket holds for what a consumer keeps (first sight of each event).
    firsts = list(dict.fromkeys(texts))
    assert firsts == [f"a{i}" for i in range(30)] + [f"b{i}" for i in range(5)]
    reborn.stop()


async def test_the_relay_holds_rows_for_a_topic_the_broker_does_not_have_and_never_creates_it(
    engine: AsyncEngine,
) -> None:
    broker = _BareKafka()
    broker.start()
    try:
        ticket = uuid.uuid4()
        await _emit(engine, ticket, ["held"])
        async with _running_relay(engine, broker.bootstrap_servers) as relay:

            async def topic_listed() -> bool:
                admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
                await admin.start()
                try:
                    return TOPICS.messages.name in await admin.list_topics()
                finally:
                    await admin.close()

            async def held_three_times() -> bool:
                return relay.held >= 3

            await _until(held_three_times)
            # Held, and the relay's client did not auto-create the topic (with whatever
            # partition count the broker picks) while asking about it.
            assert await _pending(engine) == 1
            assert not await topic_listed()
            await create_topics(broker.bootstrap_servers)

            async def published() -> bool:
                return await _pending(engine) == 0

            await _until(published)
        values = await drain(broker, TOPICS.messages.name, until=lambda got: len(_texts(ticket, got)) >= 1)
        assert _texts(ticket, values) == ["held"]
    finally:
        broker.stop()


async def test_republish_by_hand_sends_retained_events_again_with_progress(
    kafka: EmbeddedKafka, engine: AsyncEngine, fresh_db: str
) -> None:
    from typer.testing import CliRunner

    from socialdesk_runtime.cli import app

    ticket = uuid.uuid4()
    async with _running_relay(engine, kafka.bootstrap_servers) as relay:
        await _emit(engine, ticket, [f"r{i}" for i in range(12)])
        relay.notify()

        async def published() -> bool:
            return await _pending(engine) == 0

        await _until(published)
        result = await asyncio.to_thread(
            CliRunner().invoke,
            app,
            [
                "republish",
                "--since",
                "1h",
                "--service",
                "ingest",
                "--database-url",
                fresh_db,
                "--timeout",
                "60",
            ],
        )
        assert result.exit_code == 0, result.output
        assert "ingest: 12 events marked for publishing again" in result.output
        assert "12/12" in result.output, "the progress bar ran to the end"
    values = await drain(kafka, TOPICS.messages.name, until=lambda got: len(_texts(ticket, got)) >= 24)
    assert sorted(_texts(ticket, values)) == sorted([f"r{i}" for i in range(12)] * 2)
