"""The embedded stack does what the services rely on: a Kafka that keeps committed
offsets per consumer group and orders a ticket's events, and a PostgreSQL that keeps
its data across a clean stop and a crash."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from socialdesk_runtime.embedded import EmbeddedKafka, EmbeddedPostgres, create_topics
from socialdesk_schemas import TOPICS, MessageReceived, decode_event, encode_event
from socialdesk_schemas._events import Author
from socialdesk_schemas.topics import all_topics
from tests.support import log_ends

pytestmark = pytest.mark.integration


def _message(ticket_id: uuid.UUID, n: int) -> MessageReceived:
    now = datetime.now(UTC)
    return MessageReceived(
        occurred_at=now,
        producer="ingest",
        ticket_id=ticket_id,
        correlation_id=ticket_id,
        message_id=uuid.uuid4(),
        conversation_id=ticket_id,
        customer_id=uuid.uuid4(),
        brand="ourbus",
        platform="x",
        kind="mention",
        platform_message_id=f"pm-{ticket_id.hex[:8]}-{n}",
        author=Author(platform_user_id="u1", handle="@rider"),
        text=f"message {n}",
        received_at=now,
    )


def _consumer(kafka: EmbeddedKafka, group: str) -> AIOKafkaConsumer:
    # Tansu holds a join for about half the session timeout, and numbers the first
    # generation 0, for which aiokafka sends no LeaveGroup on stop: the next member then
    # waits out the whole session timeout. A short one keeps this test at seconds.
    return AIOKafkaConsumer(
        TOPICS.messages.name,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        session_timeout_ms=1_000,
        heartbeat_interval_ms=300,
    )


async def _drain(consumer: AIOKafkaConsumer, *, want: int, within: float = 15.0) -> list[MessageReceived]:
    got: list[MessageReceived] = []
    deadline = asyncio.get_running_loop().time() + within
    while len(got) < want and asyncio.get_running_loop().time() < deadline:
        batch = await consumer.getmany(timeout_ms=200)
        for records in batch.values():
            for record in records:
                try:
                    event = decode_event(record.value)
                except ValueError:
                    continue  # another test's deliberately malformed record on the shared broker
                if isinstance(event, MessageReceived):
                    got.append(event)
    return got


async def _drain_to_end(
    kafka: EmbeddedKafka, consumer: AIOKafkaConsumer, *, within: float = 15.0
) -> list[MessageReceived]:
    """Everything the consumer reads until its position reaches the end of every partition."""
    got: list[MessageReceived] = []
    deadline = asyncio.get_running_loop().time() + within
    while not consumer.assignment():
        assert asyncio.get_running_loop().time() < deadline, "no partitions assigned in time"
        got += await _drain(consumer, want=1, within=0.2)
    ends = await log_ends(kafka.bootstrap_servers, consumer.assignment())
    while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
        assert asyncio.get_running_loop().time() < deadline, "did not reach the end of the topic in time"
        got += await _drain(consumer, want=1, within=0.2)
    return got


async def test_every_registry_topic_exists_with_its_partition_count(kafka: EmbeddedKafka) -> None:
    await create_topics(kafka.bootstrap_servers)  # a second call changes nothing and does not fail
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers)
    await consumer.start()
    try:
        await consumer.topics()
        for topic in all_topics():
            assert consumer.partitions_for_topic(topic.name) == set(range(topic.partitions)), topic.name
    finally:
        await consumer.stop()


async def test_round_trip_keeps_ticket_order_and_committed_offsets(kafka: EmbeddedKafka) -> None:
    tickets = [uuid.uuid4() for _ in range(3)]
    sent = [_message(tickets[n % 3], n) for n in range(12)]
    group = f"test-{uuid.uuid4().hex[:8]}"

    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        for event in sent:
            await producer.send_and_wait(
                TOPICS.messages.name, encode_event(event), key=str(event.ticket_id).encode()
            )

        first = _consumer(kafka, group)
        await first.start()
        try:
            received = [e for e in await _drain(first, want=len(sent)) if e.ticket_id in tickets]
            await first.commit()
        finally:
            await first.stop()

        assert sorted(e.event_id for e in received) == sorted(e.event_id for e in sent)
        for ticket in tickets:  # one ticket's events arrive in the order they were written
            assert [e.text for e in received if e.ticket_id == ticket] == [
                e.text for e in sent if e.ticket_id == ticket
            ]

        # The group resumes after its committed offsets: only the new record arrives.
        late = _message(tickets[0], 99)
        await producer.send_and_wait(
            TOPICS.messages.name, encode_event(late), key=str(late.ticket_id).encode()
        )
        second = _consumer(kafka, group)
        await second.start()
        try:
            again = [e for e in await _drain_to_end(kafka, second) if e.ticket_id in tickets]
            partitions = second.assignment()
            committed = {tp: await second.committed(tp) for tp in partitions}
        finally:
            await second.stop()
        assert [e.event_id for e in again] == [late.event_id]
        assert any(offset for offset in committed.values()), committed
        assert all(isinstance(tp, TopicPartition) for tp in committed)
    finally:
        await producer.stop()


async def test_fresh_database_accepts_schema_and_queries(fresh_db: str) -> None:
    engine = create_async_engine(fresh_db)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE tickets (id uuid PRIMARY KEY, brand text NOT NULL)"))
            ticket_id = uuid.uuid4()
            await conn.execute(
                text("INSERT INTO tickets (id, brand) VALUES (:id, :brand)"),
                {"id": ticket_id, "brand": "rally"},
            )
        async with engine.connect() as conn:
            brand = (
                await conn.execute(text("SELECT brand FROM tickets WHERE id = :id"), {"id": ticket_id})
            ).scalar()
        assert brand == "rally"
    finally:
        await engine.dispose()


def test_create_database_is_idempotent(postgres: EmbeddedPostgres) -> None:
    name = f"idem_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name)
    postgres.create_database(name)
    assert postgres.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{name}'").strip() == "1"
    with pytest.raises(ValueError, match="letters, digits"):
        postgres.create_database("x; DROP DATABASE postgres")


@pytest.fixture
def scratch_dir() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="socialdesk-test-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_postgres_keeps_data_across_stop_and_crash(scratch_dir: Path) -> None:
    server = EmbeddedPostgres(scratch_dir / "data", durable=True)
    server.start()
    try:
        port = server.port
        server.create_database("ingest")
        server.psql("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)", dbname="ingest")

        server.stop()
        assert not server.is_running()
        server.start()
        assert server.port == port  # URLs handed out before the restart stay valid
        assert server.psql("SELECT v FROM kept", dbname="ingest").strip() == "42"

        server.psql("INSERT INTO kept VALUES (43)", dbname="ingest")
        server.kill()  # no shutdown checkpoint: the next start runs crash recovery
        server.start()
        assert server.psql("SELECT v FROM kept ORDER BY v", dbname="ingest").split() == ["42", "43"]
    finally:
        server.stop()
    assert server.pid is None


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_kafka_is_reaped_on_exception_and_on_kill() -> None:
    with pytest.raises(RuntimeError, match="boom"), EmbeddedKafka() as broker:  # noqa: PT012
        pid = broker.pid
        assert pid is not None
        raise RuntimeError("boom")
    assert _gone(pid)

    broker = EmbeddedKafka()
    broker.start()
    pid = broker.pid
    assert pid is not None
    broker.kill()
    assert _gone(pid)
    broker.stop()  # idempotent after a kill


async def test_a_dead_broker_is_started_again_with_every_topic_and_a_new_cluster_id() -> None:
    from socialdesk_runtime.broker_watch import BrokerWatch
    from socialdesk_runtime.stack.broker_keeper import keep_broker_up

    broker = EmbeddedKafka()
    broker.start()
    stop = asyncio.Event()
    keeper = asyncio.create_task(keep_broker_up(broker, stop, every_s=0.05))
    try:
        port, first_pid = broker.port, broker.pid
        watch = BrokerWatch(broker.bootstrap_servers)
        before = await watch.cluster_id()
        await watch.close()
        broker.kill()
        deadline = asyncio.get_running_loop().time() + 30
        wanted = {t.name for t in all_topics()}
        view = None
        while view is None or not wanted <= view.usable:  # every topic, with its partition count
            assert asyncio.get_running_loop().time() < deadline, f"the broker did not come back: {view}"
            await asyncio.sleep(0.1)
            try:
                view = await watch.look()
            except Exception:
                view = None
        await watch.close()
        assert broker.port == port, "same port: the services' bootstrap address still holds"
        assert view.cluster_id != before, "an empty broker says it is another cluster"
        assert broker.pid not in (None, first_pid)
    finally:
        stop.set()
        await asyncio.wait_for(keeper, 30)
        broker.stop()
