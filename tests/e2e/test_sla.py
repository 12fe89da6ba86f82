"""Two sla-monitor processes share the timers; SIGKILL one while timers are due: every
timer fires exactly once, and the survivor fires the dead one's within the consumer
session timeout + 2 s.

Only sla-monitor runs here (two processes of it, one consumer group, one database), on
its own broker: the test plays the assigner, publishing ``TicketAssigned`` to
``ticket.assignments``, and reads ``sla.events`` as the notifier would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from socialdesk_runtime.embedded import EmbeddedKafka, EmbeddedPostgres, free_port
from socialdesk_runtime.stack.services import STACK_SERVICES, StackEndpoints, service_specs
from socialdesk_runtime.stack.supervisor import RestartPolicy, Supervisor
from socialdesk_schemas import TOPICS, SlaBreached, TicketAssigned, decode_event, encode_event
from tests.support import TEST_CONFIG, TEST_ENV

pytestmark = pytest.mark.e2e

TICKETS = 120
# The consumer's session timeout (socialdesk_runtime.kafka.make_consumer) + 2 s.
TAKEOVER_S = 6.0 + 2.0
# Deadlines are judged this long after they pass (a reply may be in flight).
GRACE_S = 0.5
SLA_S = 4.0  # the test configuration's first-response target


@dataclasses.dataclass
class Pair:
    supervisor: Supervisor
    kafka: str
    names: tuple[str, str]


@pytest.fixture
def pair(postgres: EmbeddedPostgres) -> Iterator[Pair]:
    root = Path(tempfile.mkdtemp(prefix="socialdesk-e2e-sla-"))
    kafka = EmbeddedKafka(log_path=root / "tansu.log")
    kafka.start()
    database = f"e2e_sla_pair_{uuid.uuid4().hex[:8]}"
    postgres.create_database(database)
    (sla,) = [s for s in STACK_SERVICES if s.name == "sla-monitor"]
    env = {
        **TEST_ENV,
        "SLA_MONITOR_MAX_IDLE_SECONDS": "0.2",
        "SLA_MONITOR_REPLY_GRACE_SECONDS": str(GRACE_S),
        "LOG_LEVEL": "INFO",
    }
    specs = []
    for name in ("sla-monitor-a", "sla-monitor-b"):
        port = free_port()
        (spec,) = service_specs(
            StackEndpoints(kafka=kafka.bootstrap_servers, database_urls={sla.name: postgres.url(database)}),
            config_path=TEST_CONFIG,
            http_ports={sla.name: port},
            extra_env=env,
            services=(sla,),
        )
        specs.append(dataclasses.replace(spec, name=name))
    supervisor = Supervisor(specs, log_dir=root / "logs", policy=RestartPolicy(initial_backoff_s=0.2))
    supervisor.start()
    try:
        supervisor.wait_ready(timeout_s=90)
        yield Pair(supervisor, kafka.bootstrap_servers, ("sla-monitor-a", "sla-monitor-b"))
    finally:
        supervisor.stop()
        kafka.stop()
        shutil.rmtree(root, ignore_errors=True)


def assignment(ticket: uuid.UUID, received_at: datetime) -> TicketAssigned:
    return TicketAssigned(
        producer="assigner",
        occurred_at=datetime.now(UTC),
        ticket_id=ticket,
        correlation_id=uuid.uuid4(),
        brand="ourbus",
        platform="x",
        agent_id="ob-ana",
        agent_level="L1",
        priority="medium",
        received_at=received_at,
    )


async def publish(bootstrap: str, events: list[TicketAssigned]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for event in events:
            await producer.send(
                TOPICS.assignments.name, key=str(event.ticket_id).encode(), value=encode_event(event)
            )
        await producer.flush()
    finally:
        await producer.stop()


async def breaches(
    bootstrap: str, wanted: set[uuid.UUID], timeout_s: float
) -> dict[uuid.UUID, list[tuple[uuid.UUID, float]]]:
    """Every SlaBreached of the wanted tickets on sla.events: ``ticket → [(event_id, seen at)]``,
    read until each has one and a little longer (a double would show up)."""
    consumer = AIOKafkaConsumer(
        TOPICS.sla.name,
        bootstrap_servers=bootstrap,
        group_id=f"e2e-sla-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    found: dict[uuid.UUID, list[tuple[uuid.UUID, float]]] = {}
    try:
        deadline = time.monotonic() + timeout_s
        settle_until: float | None = None
        while time.monotonic() < (settle_until or deadline):
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    event = decode_event(record.value)
                    if isinstance(event, SlaBreached) and event.ticket_id in wanted:
                        seen = event.breached_at.timestamp()
                        found.setdefault(event.ticket_id, []).append((event.event_id, seen))
            if settle_until is None and set(found) == wanted:
                settle_until = time.monotonic() + 3.0  # keep reading: a second page would arrive now
    finally:
        await consumer.stop()
    return found


def test_sigkill_of_one_instance_while_timers_are_due_fires_every_timer_exactly_once(pair: Pair) -> None:
    now = datetime.now(UTC)
    # Deadlines spread over the next 12 s: some before the kill, most after it.
    tickets = {
        uuid.uuid4(): now - timedelta(seconds=SLA_S - 1) + timedelta(seconds=12 * i / TICKETS)
        for i in range(TICKETS)
    }
    asyncio.run(publish(pair.kafka, [assignment(t, at) for t, at in tickets.items()]))
    time.sleep(2.0)  # a few timers are due and fired; both instances hold partitions
    killed_at = datetime.now(UTC)
    pair.supervisor.kill(pair.names[0])

    found = asyncio.run(breaches(pair.kafka, set(tickets), timeout_s=60.0))

    assert set(found) == set(tickets), f"{len(set(tickets) - set(found))} timers never fired"
    # The outbox relay may publish a record again after a crash (same event id, deduped by
    # every consumer); a second breach of one timer would carry another id.
    doubled = {t: pages for t, pages in found.items() if len({event_id for event_id, _ in pages}) != 1}
    assert doubled == {}, "a timer fired twice"
    # No timer fired early; none of those due after the kill waited beyond the takeover bound.
    late = []
    for ticket, pages in found.items():
        due = (tickets[ticket] + timedelta(seconds=SLA_S)).timestamp()
        fired = min(at for _, at in pages)
        assert fired >= due, f"{ticket} fired {due - fired:.3f} s early"
        bound = max(due, killed_at.timestamp()) + GRACE_S + TAKEOVER_S
        if fired > bound:
            late.append((ticket, fired - due))
    assert late == [], f"fired after the takeover bound: {late[:5]}"
    before = sum(1 for pages in found.values() if min(at for _, at in pages) < killed_at.timestamp())
    assert 0 < before < TICKETS, "timers were due both before and after the kill"
