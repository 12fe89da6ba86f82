"""Running a service: bootstrap, then consumer, outbox relay, HTTP and workers until SIGTERM.

A service provides a :class:`ServiceSpec` and a ``bootstrap(runtime)`` that returns its
:class:`ServiceParts` (handler table, emitted event types, HTTP routers, background
workers). The topics it consumes follow from its handler table through the registry; a
service that declares it emits to a topic it is not the single writer of does not start.
Tests call the same bootstrap with fakes for the clock and for outside SaaS only.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import stamina
import uvicorn
import uvloop
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from socialdesk_runtime.broker_watch import BrokerWatch
from socialdesk_runtime.clock import Clock, SystemClock
from socialdesk_runtime.config import ConfigError, SocialdeskConfig, load_config
from socialdesk_runtime.consumer import ConsumerLoop, HandlerTable
from socialdesk_runtime.db import UnitOfWorkFactory, create_engine
from socialdesk_runtime.errors import is_transient
from socialdesk_runtime.http import ReadinessCheck, create_app
from socialdesk_runtime.kafka import make_consumer, make_producer
from socialdesk_runtime.logs import configure_logging
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_runtime.migrations import upgrade_to_head
from socialdesk_runtime.outbox import OutboxRelay
from socialdesk_runtime.settings import ServiceSettings, load_settings
from socialdesk_runtime.topology import consumed_topics, wiring_problems
from socialdesk_schemas import Event

__all__ = ["Runtime", "ServiceParts", "ServiceSpec", "Worker", "run_service"]

log = logging.getLogger(__name__)


class Worker(Protocol):
    """A background loop of a service (a timer scheduler, a delivery worker)."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Runtime:
    """What a service's bootstrap gets to build its handlers from."""

    service: str
    settings: ServiceSettings
    config: SocialdeskConfig
    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory
    clock: Clock
    metrics: RuntimeMetrics
    consumer_caught_up: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the consumer has read everything that was waiting at start. A worker
    that judges by the absence of events (a missed deadline) waits for it, or it would
    judge before reading the event that says otherwise."""


@dataclass
class ServiceParts:
    """What a service adds to the runtime.

    ``handlers`` decides the consumed topics (the registry topics carrying its event
    types). ``emits`` lists the event types the service publishes; each one's topic must
    have this service as its writer.
    """

    handlers: HandlerTable = field(default_factory=dict)
    emits: Sequence[type[Event]] = ()
    routers: Sequence[APIRouter] = ()
    workers: Sequence[Worker] = ()
    readiness: Sequence[tuple[str, ReadinessCheck]] = ()
    max_body_bytes: int = 1024 * 1024
    front: Mapping[str, ASGIApp] = field(default_factory=dict)
    """``POST`` paths served as raw ASGI apps ahead of the HTTP guards (see
    :class:`~socialdesk_runtime.http.FrontDoor`): they limit their own bodies."""
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = ()


Bootstrap = Callable[[Runtime], Awaitable[ServiceParts]]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    settings_cls: type[ServiceSettings]
    migrations: Path
    bootstrap: Bootstrap


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service owns SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run_service(spec: ServiceSpec) -> None:
    """The ``__main__`` of every service."""
    settings = load_settings(spec.settings_cls)
    configure_logging(spec.name, settings.log_level)
    try:
        config = load_config(settings.config_path)
    except ConfigError as exc:
        print(f"{spec.name}: configuration refused:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        # uvloop: the event loop is most of what a service does between SQL statements.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            code = runner.run(_main(spec, settings, config))
    except KeyboardInterrupt:
        code = 0
    raise SystemExit(code)


def _retry_startup() -> Any:
    # Dependencies may come up after us (compose, k8s): wait for them, loudly.
    return stamina.retry_context(on=is_transient, attempts=60, timeout=120, wait_initial=0.2, wait_max=3.0)


async def _main(spec: ServiceSpec, settings: ServiceSettings, config: SocialdeskConfig) -> int:
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    async for attempt in _retry_startup():
        with attempt:
            await upgrade_to_head(engine, spec.migrations)
    metrics = RuntimeMetrics.create(spec.name)
    uow_factory = UnitOfWorkFactory(engine, service=spec.name)
    producer = make_producer(settings.kafka_bootstrap_servers, client_id=spec.name)
    async for attempt in _retry_startup():
        with attempt:
            await producer.start()
    relay = OutboxRelay(
        engine,
        producer,
        metrics,
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
        watch=BrokerWatch(settings.kafka_bootstrap_servers),
        retention_seconds=settings.outbox_retention_seconds,
        inbox_retention_seconds=settings.inbox_retention_seconds,
        check_seconds=settings.broker_check_seconds,
        service=spec.name,  # its dead-letter topic takes what the broker refuses for good
    )
    uow_factory.on_publish(relay.notify)
    runtime = Runtime(
        service=spec.name,
        settings=settings,
        config=config,
        engine=engine,
        uow_factory=uow_factory,
        clock=SystemClock(),
        metrics=metrics,
    )
    parts = await spec.bootstrap(runtime)
    problems = wiring_problems(spec.name, parts.handlers, parts.emits)
    if problems:
        for problem in problems:
            log.error("%s refuses to start: %s", spec.name, problem)
        with contextlib.suppress(Exception):
            await producer.stop()
        await engine.dispose()
        return 2
    topics = consumed_topics(parts.handlers)

    async def db_ready() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def broker_ready() -> None:
        await _broker_reachable(producer)

    app = create_app(
        spec.name,
        registry=metrics.registry,
        readiness=[("database", db_ready), ("broker", broker_ready), *parts.readiness],
        routers=parts.routers,
        max_body_bytes=parts.max_body_bytes,
        rate_limit=settings.http_rate_limit or None,
        front=parts.front,
    )
    server = _Server(
        uvicorn.Config(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            lifespan="off",
            loop="none",  # the service's own (uvloop) loop
            http="httptools",
            timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        )
    )

    loop_consumer: ConsumerLoop | None = None
    kafka_consumer = None
    if parts.handlers:
        kafka_consumer = make_consumer(
            settings.kafka_bootstrap_servers,
            *(t.name for t in topics),
            group_id=spec.name,
            fetch_max_wait_ms=settings.fetch_max_wait_ms,
            fetch_min_bytes=settings.fetch_min_bytes,
            max_poll_records=settings.batch_max_records,
        )
        async for attempt in _retry_startup():
            with attempt:
                await kafka_consumer.start()
        loop_consumer = ConsumerLoop(
            kafka_consumer,
            service=spec.name,
            handlers=parts.handlers,
            uow_factory=uow_factory,
            clock=runtime.clock,
            metrics=metrics,
            max_records=settings.batch_max_records,
            caught_up=runtime.consumer_caught_up,
        )
    else:
        runtime.consumer_caught_up.set()

    # What bootstrap built lives as long as the process: moved out of the collector's
    # sight, so the collections under load do not walk it again and again.
    gc.collect()
    gc.freeze()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    tasks: dict[str, asyncio.Task[Any]] = {
        "relay": asyncio.create_task(relay.run(), name="relay"),
        "http": asyncio.create_task(server.serve(), name="http"),
    }
    if loop_consumer is not None:
        tasks["consumer"] = asyncio.create_task(loop_consumer.run(), name="consumer")
    for i, worker in enumerate(parts.workers):
        tasks[f"worker-{i}"] = asyncio.create_task(worker.run(), name=f"worker-{i}")
    log.info("%s started on %s:%s", spec.name, settings.http_host, settings.http_port)

    stop_wait = asyncio.create_task(stop.wait(), name="stop")
    done, _ = await asyncio.wait([stop_wait, *tasks.values()], return_when=asyncio.FIRST_COMPLETED)
    exit_code = 0
    for task in done:
        if task is not stop_wait:
            exc = task.exception()
            log.error("%s: task %s ended unexpectedly: %r", spec.name, task.get_name(), exc)
            exit_code = 1
    log.info("%s draining", spec.name)

    # Drain in dependency order: stop taking work, finish the batch in hand, publish
    # what it emitted, then close connections.
    grace = settings.shutdown_grace_seconds
    if loop_consumer is not None:
        loop_consumer.stop()
        await _wait(tasks["consumer"], grace)
    for worker in parts.workers:
        worker.stop()
    await asyncio.gather(*(_wait(t, grace) for n, t in tasks.items() if n.startswith("worker-")))
    server.should_exit = True
    await _wait(tasks["http"], grace)
    relay.stop()
    await _wait(tasks["relay"], grace)
    for hook in parts.on_shutdown:
        with contextlib.suppress(Exception):
            await hook()
    if kafka_consumer is not None:
        with contextlib.suppress(Exception):
            await kafka_consumer.stop()
    with contextlib.suppress(Exception):
        await producer.stop()
    await engine.dispose()
    stop_wait.cancel()
    log.info("%s stopped", spec.name)
    return exit_code


async def _wait(task: asyncio.Task[Any], grace: float) -> None:
    if task.done():
        return
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=grace)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    except Exception:
        log.exception("task %s failed while draining", task.get_name())


async def _broker_reachable(producer: AIOKafkaProducer) -> None:
    ok = await producer.client.fetch_all_metadata()
    if not ok.brokers():
        raise ConnectionError("no Kafka broker in cluster metadata")
