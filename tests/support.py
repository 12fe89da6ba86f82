"""Helpers shared by the integration and end-to-end tests (no fixtures: see conftest)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from socialdesk_runtime.clock import Clock, FakeClock
from socialdesk_runtime.config import SocialdeskConfig, load_config
from socialdesk_runtime.consumer import process_batch
from socialdesk_runtime.db import UnitOfWorkFactory, create_engine, outbox_table
from socialdesk_runtime.embedded.process import free_port
from socialdesk_runtime.http import create_app
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_runtime.migrations import upgrade_to_head
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_runtime.tests.events import consumer_records
from socialdesk_runtime.topology import wiring_problems
from socialdesk_schemas import Event, decode_event, encode_event
from socialdesk_schemas.desk import TicketPriorityRaised

TEST_CONFIG = Path(__file__).parent / "data" / "socialdesk.test.yaml"

TEST_ENV: dict[str, str] = {
    "TEST_INGEST_API_KEYS": "key-one,key-two",
    "TEST_META_APP_SECRET": "meta-app-secret",
    "TEST_RALLY_META_APP_SECRET": "rally-app-secret",
    "TEST_X_CONSUMER_SECRET": "x-consumer-secret",
    "TEST_META_VERIFY_TOKEN": "verify-me",
    "TEST_META_TOKEN": "EAAG-test",
    "T_ANA": "tok-ana",
    "T_BEN": "tok-ben",
    "T_CID": "tok-cid",
    "T_DEE": "tok-dee",
    "T_LEAD": "tok-lead",
    "T_MGR": "tok-mgr",
    "T_HUGO": "tok-hugo",
    "T_RALEAD": "tok-ralead",
    # The notifier verifies Slack button clicks with it (slack.signing_secret_env, issue 11).
    "SLACK_SIGNING_SECRET": "e2e-slack-signing-secret",
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


async def log_ends(
    bootstrap_servers: str, partitions: Iterable[TopicPartition], *, timeout: float = 10.0
) -> dict[TopicPartition, int]:
    """Where the next record of each partition will land: the high watermark of a fetch.

    Not ``end_offsets()`` or ``seek_to_end()``: Tansu (0.6) answers ListOffsets "latest"
    with the last record batch's base offset plus one, short of the end whenever that batch
    held several records, as an outbox relay's batches do (see
    ``socialdesk_runtime.broker_watch``). That answer is still inside the last batch, so a
    fetch from it reads at most that batch and brings back the true high watermark.

    Usage::

        ends = await log_ends(kafka.bootstrap_servers, [TopicPartition(TOPICS.messages.name, 0)])
    """
    parts = list(partitions)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(parts)
        for tp, below_end in (await consumer.end_offsets(parts)).items():
            consumer.seek(tp, below_end)
        async with asyncio.timeout(timeout):
            while any(consumer.highwater(tp) is None for tp in parts):
                await consumer.getmany(*parts, timeout_ms=100)
        return {tp: int(consumer.highwater(tp) or 0) for tp in parts}
    finally:
        await consumer.stop()


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


def priority_raised(clock: Clock, ticket_id: uuid.UUID, **over: Any) -> TicketPriorityRaised:
    """An OurBus X ticket that became critical (from medium) by a keyword rule, now."""
    fields: dict[str, Any] = {
        "brand": "ourbus",
        "platform": "x",
        "priority": "critical",
        "previous_priority": "medium",
        "agent_id": "ob-ana",
        "raised_at": clock.now(),
        "reason": "keyword rule",
        **over,
    }
    return TicketPriorityRaised(**envelope(clock, ticket_id), **fields)


# --- A service booted through its real bootstrap ------------------------------------------


@dataclass
class Booted:
    """One service as its ``bootstrap`` wired it, on a real database, without Kafka.

    Events go in through :meth:`feed`, which runs the runtime's real ``process_batch``
    over the service's own handler table (inbox, savepoints, dead letters and all); HTTP
    goes in through :attr:`client`, an ASGI client over the service's own routers.
    """

    spec: ServiceSpec
    runtime: Runtime
    parts: ServiceParts
    client: httpx.AsyncClient
    _offset: int = 0

    @property
    def engine(self) -> AsyncEngine:
        return self.runtime.engine

    @property
    def uow_factory(self) -> UnitOfWorkFactory:
        return self.runtime.uow_factory

    async def feed(self, *events: Event, raw: Sequence[bytes] = ()) -> dict[str, int]:
        """Deliver events (and raw record values) as one consumed batch; returns outcome counts."""
        values = [encode_event(e) for e in events] + list(raw)
        records = consumer_records(values, topic="test", first_offset=self._offset + 1)
        self._offset += len(values)
        return await process_batch(
            records,
            service=self.spec.name,
            handlers=self.parts.handlers,
            uow_factory=self.runtime.uow_factory,
            clock=self.runtime.clock,
            metrics=self.runtime.metrics,
        )

    async def emitted(self, *, clear: bool = True) -> list[Event]:
        """What the service wrote to its outbox since the last call (dead letters left out)."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(outbox_table.c.topic, outbox_table.c.value).order_by(outbox_table.c.id)
                )
            ).all()
        if clear:
            await clear_outbox(self.engine)
        return [decode_event(r.value) for r in rows if not r.topic.startswith("deadletter")]

    async def dead_letters(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(outbox_table.c.topic, outbox_table.c.value).order_by(outbox_table.c.id)
                )
            ).all()
        return [orjson.loads(r.value) for r in rows if r.topic.startswith("deadletter")]


@asynccontextmanager
async def booted(
    spec: ServiceSpec,
    database_url: str,
    *,
    clock: Clock | None = None,
    config: SocialdeskConfig | None = None,
    settings: Mapping[str, Any] | None = None,
) -> AsyncIterator[Booted]:
    """Migrate a fresh database and run the service's real ``bootstrap`` over it.

    ``settings`` overrides fields of the service's settings class (by field name). The
    service's background workers are built but not started: a test starts the ones it
    needs (``asyncio.create_task(worker.run())``) and stops them.
    """
    service_settings = spec.settings_cls(
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1",
        SOCIALDESK_CONFIG=str(TEST_CONFIG),
        database_url=database_url,
        http_port=0,
        **dict(settings or {}),
    )
    engine = create_engine(database_url, pool_size=5)
    try:
        await upgrade_to_head(engine, spec.migrations)
        runtime = Runtime(
            service=spec.name,
            settings=service_settings,
            config=config or config_for_tests(),
            engine=engine,
            uow_factory=UnitOfWorkFactory(engine, service=spec.name),
            clock=clock or FakeClock(),
            metrics=RuntimeMetrics.create(spec.name),
        )
        runtime.consumer_caught_up.set()
        parts = await spec.bootstrap(runtime)
        problems = wiring_problems(spec.name, parts.handlers, parts.emits)
        assert not problems, problems
        app = create_app(
            spec.name,
            registry=runtime.metrics.registry,
            routers=parts.routers,
            max_body_bytes=parts.max_body_bytes,
            front=parts.front,
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=f"http://{spec.name}"
        ) as client:
            try:
                yield Booted(spec, runtime, parts, client)
            finally:
                for hook in parts.on_shutdown:
                    await hook()
    finally:
        await engine.dispose()


@asynccontextmanager
async def served(svc: Booted, *, access_log: bool = True) -> AsyncIterator[str]:
    """The booted service's real app over HTTP on a free local port (for a browser or a
    bench that needs a socket); yields its base URL."""
    app = create_app(
        svc.spec.name,
        registry=svc.runtime.metrics.registry,
        routers=svc.parts.routers,
        max_body_bytes=svc.parts.max_body_bytes,
        front=svc.parts.front,
    )
    async with served_app(app, access_log=access_log) as base:
        yield base


@asynccontextmanager
async def served_app(app: ASGIApp, *, access_log: bool = True) -> AsyncIterator[str]:
    """Any ASGI app over HTTP on a free local port (``127.0.0.1``); yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=access_log, lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
