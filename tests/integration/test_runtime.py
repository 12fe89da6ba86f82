"""The shared runtime on the real broker and PostgreSQL: inbox, outbox relay, dead letters.

A batch handler's poison and transient failures, without a broker: test_runtime_batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.consumer import ConsumerLoop
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.embedded import EmbeddedKafka
from socialdesk_runtime.kafka import make_consumer, make_producer
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_runtime.outbox import OutboxRelay
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_runtime.service import _main as run_until_started
from socialdesk_runtime.settings import ServiceSettings
from socialdesk_runtime.tests.events import received
from socialdesk_schemas import (
    TOPICS,
    MessageClassified,
    MessageReceived,
    SlaBreached,
    dead_letter_topic,
    encode_event,
)
from tests.integration.runtime_helpers import CONNECTIONS_RETURNED, consumed, record, runtime_engine, seen
from tests.support import TEST_CONFIG, config_for_tests, log_ends

pytestmark = [pytest.mark.integration, *CONNECTIONS_RETURNED]


@pytest.fixture
async def engine(fresh_db: str) -> AsyncIterator[AsyncEngine]:
    async with runtime_engine(fresh_db) as eng:
        yield eng


async def produce(kafka: EmbeddedKafka, topic: str, items: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        for key, value in items:
            await producer.send_and_wait(topic, key=key.encode(), value=value)
    finally:
        await producer.stop()


async def drain(
    kafka: EmbeddedKafka, topic: str, *, until: Callable[[list[bytes]], bool], timeout: float = 15.0
) -> list[bytes]:
    """Read ``topic`` from the start until ``until(values so far)`` holds."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka.bootstrap_servers, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    out: list[bytes] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not until(out):
            assert asyncio.get_running_loop().time() < deadline, f"{topic}: condition not met in time"
            batch = await consumer.getmany(timeout_ms=300)
            out += [r.value for rs in batch.values() for r in rs if r.value is not None]
    finally:
        await consumer.stop()
    return out


async def run_loop_until(
    kafka: EmbeddedKafka,
    engine: AsyncEngine,
    topic: str,
    group: str,
    *,
    done: Callable[[RuntimeMetrics, ConsumerLoop], bool],
    timeout: float = 20.0,
) -> RuntimeMetrics:
    """Consume ``topic`` as ``group`` until ``done`` holds, then stop the loop.

    Stopping finishes and commits the batch in hand (offsets included) before ``run``
    returns, so nothing here waits on time.
    """
    metrics = RuntimeMetrics.create(f"t{uuid.uuid4().hex[:6]}")
    consumer = make_consumer(
        kafka.bootstrap_servers, topic, group_id=group, fetch_max_wait_ms=20, max_poll_records=100
    )
    await consumer.start()
    loop = ConsumerLoop(
        consumer,
        service="classifier",
        handlers={MessageReceived: record},
        uow_factory=UnitOfWorkFactory(engine),
        clock=FakeClock(),
        metrics=metrics,
    )
    task = asyncio.create_task(loop.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not done(metrics, loop):
            assert not task.done(), "the consumer loop ended early"
            assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
            await asyncio.sleep(0.05)
    finally:
        loop.stop()
        await asyncio.wait_for(task, 10)
        await consumer.stop()
    return metrics


def total_consumed(metrics: RuntimeMetrics) -> float:
    return sum(
        sample.value
        for m in metrics.events_consumed.collect()
        for sample in m.samples
        if sample.name.endswith("_total")
    )


async def test_duplicates_change_nothing_and_poison_goes_to_dead_letters(
    kafka: EmbeddedKafka, engine: AsyncEngine
) -> None:
    topic = TOPICS.messages.name
    group = f"g-{uuid.uuid4().hex[:8]}"
    # Start from the end of the topic: other tests share the session broker.
    await _skip_to_end(kafka, topic, group)
    good = [received(text=f"m{i}") for i in range(5)]
    poison = received(text="poison")
    items = [(str(e.ticket_id), encode_event(e)) for e in good]
    items.insert(2, (str(poison.ticket_id), encode_event(poison)))
    items.insert(3, ("k", b"{not json"))
    items.insert(4, ("k", orjson.dumps({"event_type": "FromTheFuture", "event_id": str(uuid.uuid4())})))
    items += [(str(e.ticket_id), encode_event(e)) for e in good[:3]]  # redelivered
    await produce(kafka, topic, items)

    metrics = await run_loop_until(
        kafka, engine, topic, group, done=lambda m, _: total_consumed(m) >= len(items)
    )

    async with engine.connect() as conn:
        stored = sorted(r.text for r in await conn.execute(select(seen.c.text)))
        outbox = (await conn.execute(text("SELECT topic, value FROM outbox ORDER BY id"))).all()
    assert stored == [f"m{i}" for i in range(5)], "every good event handled exactly once"
    assert consumed(metrics, "duplicate") == 3
    assert consumed(metrics, "deadlettered") == 2
    assert consumed(metrics, "ignored_unknown_type") == 1
    follow_ups = [r for r in outbox if r.topic == TOPICS.assignments.name]
    dead = [orjson.loads(r.value) for r in outbox if r.topic == dead_letter_topic("classifier").name]
    assert len(follow_ups) == 5, "the poison event's savepoint dropped its emitted events only"
    assert {d["reason"] for d in dead} == {"malformed", "handler"}
    handler_dead = next(d for d in dead if d["reason"] == "handler")
    assert "this event cannot be handled" in handler_dead["error"]
    assert orjson.loads(handler_dead["payload"])["event_id"] == str(poison.event_id)

    # Offsets were committed after the transaction: the group's committed offsets are the
    # end of the topic, and a restart of the group reads nothing old at all (not even
    # duplicates the inbox would drop) before it reports itself caught up.
    assert await _committed_is_end(kafka, topic, group)
    again = await run_loop_until(kafka, engine, topic, group, done=lambda _, loop: loop.caught_up.is_set())
    assert total_consumed(again) == 0, "the restarted group re-read committed records"


async def _committed_is_end(kafka: EmbeddedKafka, topic: str, group: str) -> bool:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=group)
    await consumer.start()
    try:
        await consumer.topics()  # load the cluster metadata
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = await log_ends(kafka.bootstrap_servers, partitions)
        return all([await consumer.committed(tp) == end for tp, end in ends.items()])
    finally:
        await consumer.stop()


async def _skip_to_end(kafka: EmbeddedKafka, topic: str, group: str) -> None:
    """Commit ``group``'s offsets at the end of every partition of ``topic`` (by
    :func:`log_ends`: ``seek_to_end()`` can stop inside the last record batch on Tansu).

    Partitions are assigned, not subscribed to: no group join to wait for."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()  # load the cluster metadata
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.commit(await log_ends(kafka.bootstrap_servers, partitions))
    finally:
        await consumer.stop()


async def test_a_group_skipped_to_the_end_reads_nothing_a_relay_published_before(
    kafka: EmbeddedKafka, engine: AsyncEngine
) -> None:
    """Why test_duplicates_change_nothing... failed after test_runtime_relay_lock: a relay's batch is one
    record batch per partition (10 keys over 6 partitions: one gets two or more), and a skip
    to the end by ListOffsets stopped inside it, so the group read the rest as its own."""
    async with UnitOfWorkFactory(engine)() as uow:
        for i in range(10):
            uow.emit(received(text=f"before{i}"))
        await uow.commit()
    producer = make_producer(kafka.bootstrap_servers, client_id="skip-test")
    await producer.start()
    relay = OutboxRelay(engine, producer, RuntimeMetrics.create(f"s{uuid.uuid4().hex[:6]}"))
    try:
        assert await relay.publish_pending() == 10
    finally:
        await relay.close()
        await producer.stop()

    topic, group = TOPICS.messages.name, f"g-{uuid.uuid4().hex[:8]}"
    await _skip_to_end(kafka, topic, group)
    assert await _committed_is_end(kafka, topic, group)
    metrics = await run_loop_until(kafka, engine, topic, group, done=lambda _, loop: loop.caught_up.is_set())
    assert total_consumed(metrics) == 0, "the group read records published before it skipped to the end"


async def test_relay_publishes_in_order_and_keeps_rows_it_could_not_publish(
    kafka: EmbeddedKafka, engine: AsyncEngine
) -> None:
    ticket = uuid.uuid4()
    events = [received(ticket_id=ticket, text=f"n{i}") for i in range(20)]
    uow_factory = UnitOfWorkFactory(engine)
    async with uow_factory() as uow:
        for e in events:
            uow.emit(e)
        await uow.commit()

    # A broker that dies under a started producer: publishing fails and no row is lost.
    metrics = RuntimeMetrics.create("relaytest")
    doomed = EmbeddedKafka()
    doomed.start()
    dead = make_producer(doomed.bootstrap_servers, client_id="t")
    await dead.start()
    doomed.kill()
    try:
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever aiokafka raises for a dead broker
            await asyncio.wait_for(OutboxRelay(engine, dead, metrics).publish_pending(), 20)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(dead.stop(), 5)
        doomed.stop()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one() == 20
        # A broker away is no refusal of a record: the relay holds, it parks nothing.
        assert (await conn.execute(text("SELECT count(*) FROM outbox_refused"))).scalar_one() == 0
    assert metrics.outbox_refused_events._value.get() == 0

    producer = make_producer(kafka.bootstrap_servers, client_id="t")
    await producer.start()
    relay = OutboxRelay(engine, producer, metrics)
    try:
        assert await relay.publish_pending() == 20
    finally:
        # A relay driven by hand keeps its lock connection between batches (run() lets it
        # go when it stops): give it back before the relay is dropped.
        await relay.close()
        await producer.stop()
    async with engine.connect() as conn:
        pending = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        assert (await conn.execute(text(pending))).scalar_one() == 0
        # Kept for the retention window (a broker that loses them gets them again).
        assert (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one() == 20
    values = await drain(kafka, TOPICS.messages.name, until=lambda got: len(_texts_of(ticket, got)) >= 20)
    ours = _texts_of(ticket, values)
    assert ours == [f"n{i}" for i in range(20)], "one ticket's events arrive in the order written"


def _texts_of(ticket: uuid.UUID, values: list[bytes]) -> list[object]:
    return [d["text"] for d in map(_json_or_none, values) if d and d.get("ticket_id") == str(ticket)]


def _json_or_none(value: bytes) -> dict[str, object] | None:
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None  # another test's deliberately malformed record
    return data if isinstance(data, dict) else None


# --- run_service refuses a service that would write another service's topic ----------------


def _messaging_only_migrations(root: Path) -> Path:
    """An Alembic directory whose one revision creates the runtime's inbox and outbox."""
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(
        "from socialdesk_runtime.db import messaging_metadata\n"
        "from socialdesk_runtime.migrations import run_alembic_env\n"
        "run_alembic_env(messaging_metadata)\n"
    )
    (root / "versions" / "0001_messaging.py").write_text(
        "from socialdesk_runtime.migrations import create_messaging_tables\n"
        "revision = '0001'\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n"
        "def upgrade():\n    create_messaging_tables()\n"
    )
    return root


async def test_a_service_that_emits_to_a_foreign_topic_refuses_to_start(
    kafka: EmbeddedKafka, fresh_db: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bootstrapped = asyncio.Event()

    async def bootstrap(runtime: Runtime) -> ServiceParts:
        bootstrapped.set()
        return ServiceParts(handlers={MessageReceived: record}, emits=[MessageClassified, SlaBreached])

    spec = ServiceSpec("classifier", ServiceSettings, _messaging_only_migrations(tmp_path / "m"), bootstrap)
    settings = ServiceSettings(
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
        database_url=fresh_db,
        SOCIALDESK_CONFIG=str(TEST_CONFIG),
        http_port=0,
    )
    with caplog.at_level(logging.ERROR, logger="socialdesk_runtime.service"):
        code = await run_until_started(spec, settings, config_for_tests())

    assert bootstrapped.is_set()
    assert code == 2
    assert "classifier emits SlaBreached to sla.events, whose single writer is sla-monitor" in caplog.text
