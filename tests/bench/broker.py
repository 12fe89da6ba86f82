"""The raw broker rate: produce→consume through Tansu with our own client settings.

This is the ceiling one hop of the pipeline could reach on this machine: the same broker
binary, the producer of the outbox relay (:func:`socialdesk_runtime.kafka.make_producer`,
``acks="all"``, ``linger_ms=1``) and the consumer of the consumer loop
(:func:`~socialdesk_runtime.kafka.make_consumer`, a consumer group, offsets committed by
hand after every batch), with records of the size of a real ``MessageReceived``. It has no
database and no handler, so the gap between it and the end-to-end rate is what the
services themselves cost.

Producer and consumer run in one process and one event loop, concurrently, as the outbox
relay and consumer loop do inside each service.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass

from socialdesk_runtime.kafka import create_topics, make_consumer, make_producer
from socialdesk_schemas.topics import Topic

__all__ = ["BrokerResult", "measure_broker"]

#: The partition count of every topic of the contract.
_PARTITIONS = 6
#: How many sends are in flight before we wait for their acknowledgements.
_IN_FLIGHT = 2_000


@dataclass(frozen=True, slots=True)
class BrokerResult:
    records: int
    record_bytes: int
    produce_msgs_per_s: float
    """Records acknowledged per second (``acks="all"``), from the first send."""
    msgs_per_s: float
    """Records produced *and* consumed per second: first send to last record consumed."""
    consume_lag_ms: float
    """How long after the last acknowledgement the consumer had read the last record."""


def _record_value(size: int) -> bytes:
    # Incompressible enough to look like JSON text of a real event; size is what matters.
    body = os.urandom(size // 2).hex().encode()
    return body[:size]


async def measure_broker(
    bootstrap_servers: str, *, records: int = 20_000, record_bytes: int = 600, timeout_s: float = 120.0
) -> BrokerResult:
    """Produce ``records`` keyed records while a consumer group reads them all back."""
    # A fresh topic of the benchmark only: never read by a service (the rate must not feed
    # the pipeline), and empty, so the consumer reads exactly what this call produces.
    topic = Topic(
        f"bench.broker-rate.{uuid.uuid4().hex[:8]}", "key", (), writer="bench", partitions=_PARTITIONS
    )
    await create_topics(bootstrap_servers, (topic,))
    consumer = make_consumer(
        bootstrap_servers,
        topic.name,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        fetch_max_wait_ms=20,
        max_poll_records=500,
    )
    producer = make_producer(bootstrap_servers, client_id="bench-producer")
    await consumer.start()
    await producer.start()
    try:
        # Joining the group takes seconds on Tansu; the clock starts once we own partitions.
        deadline = time.monotonic() + 30
        while not consumer.assignment():
            if time.monotonic() > deadline:
                raise TimeoutError("the benchmark consumer got no partition in 30 s")
            await consumer.getmany(timeout_ms=100)
        values = [_record_value(record_bytes) for _ in range(64)]
        keys = [uuid.uuid4().hex.encode() for _ in range(1024)]
        consumed = 0
        done = asyncio.Event()

        async def consume() -> None:
            nonlocal consumed
            while consumed < records:
                batch = await consumer.getmany(timeout_ms=200, max_records=500)
                n = sum(len(rs) for rs in batch.values())
                if n:
                    consumed += n
                    await consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batch.items() if rs})
            done.set()

        started = time.perf_counter()
        reader = asyncio.create_task(consume())
        pending = []
        for i in range(records):
            pending.append(await producer.send(topic.name, key=keys[i % 1024], value=values[i % 64]))
            if len(pending) >= _IN_FLIGHT:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        acked = time.perf_counter()
        await asyncio.wait_for(done.wait(), timeout=timeout_s)
        finished = time.perf_counter()
        await reader
        return BrokerResult(
            records=records,
            record_bytes=record_bytes,
            produce_msgs_per_s=records / (acked - started),
            msgs_per_s=records / (finished - started),
            consume_lag_ms=(finished - acked) * 1000,
        )
    finally:
        await producer.stop()
        await consumer.stop()
