"""The consumer loop: batches in, one transaction per batch, offsets after commit.

For each batch of records: decode; record event ids in the inbox (those already there
are duplicates and change nothing); run each new event's handler; write the outgoing
events to the outbox; commit; then commit the Kafka offsets. A crash anywhere before the
offset commit replays the batch, and the inbox makes the replay a no-op.

A record that cannot be processed (not JSON, fails validation, or its handler raises
a non-transient error) goes to the service's dead-letter topic, through the outbox, with
the error; the partition moves on. Transient errors (database or broker away) retry the
whole batch with backoff (stamina) and never dead-letter anything.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import stamina
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWork, UnitOfWorkFactory
from socialdesk_runtime.errors import is_transient
from socialdesk_runtime.logs import bind_event
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_schemas import Event, UnknownEventType, dead_letter_topic, decode_event

__all__ = ["Batch", "ConsumerLoop", "Handler", "HandlerTable", "combine", "process_batch"]

log = logging.getLogger(__name__)

Handler = Callable[[Any, UnitOfWork], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Batch:
    """Marks a handler that takes a list of events of its type at once.

    A batch handler turns N events into a few statements (one per table) instead of N
    times a few: the difference between ~100 and ~1000 events/s on two cores. It gets
    consecutive runs of its type, in record order; if it raises a non-transient error
    the runtime calls it again with one event at a time to isolate the poison one.
    """

    fn: Callable[[list[Any], UnitOfWork], Awaitable[None]]


HandlerTable = Mapping[type[Event], Handler | Batch]


async def _call(handler: Handler | Batch, events: list[Event], uow: UnitOfWork) -> None:
    if isinstance(handler, Batch):
        await handler.fn(events, uow)
        return
    for event in events:
        with bind_event(event):
            await handler(event, uow)


def combine(*tables: HandlerTable) -> HandlerTable:
    """One table from several concerns of one service (Slack pages, a helpdesk sync, ...).

    An event type handled by more than one table gets a batch handler that runs each
    concern in table order, in the same transaction: either all of them take effect or
    none does, and a poison event is still isolated one event at a time.
    """
    merged: dict[type[Event], list[Handler | Batch]] = {}
    for table in tables:
        for event_type, handler in table.items():
            merged.setdefault(event_type, []).append(handler)
    out: dict[type[Event], Handler | Batch] = {}
    for event_type, handlers in merged.items():
        if len(handlers) == 1:
            out[event_type] = handlers[0]
            continue

        async def _all(
            events: list[Any], uow: UnitOfWork, _hs: tuple[Handler | Batch, ...] = tuple(handlers)
        ) -> None:
            for h in _hs:
                await _call(h, events, uow)

        out[event_type] = Batch(_all)
    return out


def _runs(fresh: list[_Decoded]) -> list[list[Event]]:
    """Consecutive events of one type: batch handlers never see records out of order."""
    runs: list[list[Event]] = []
    for d in fresh:
        if runs and type(runs[-1][0]) is type(d.event):
            runs[-1].append(d.event)
        else:
            runs.append([d.event])
    return runs


@dataclass(frozen=True, slots=True)
class _Decoded:
    record: ConsumerRecord[bytes, bytes]
    event: Event


@dataclass(frozen=True, slots=True)
class _Poison:
    record: ConsumerRecord[bytes, bytes]
    error: str
    reason: str


def _dead_letter_value(
    service: str, record: ConsumerRecord[bytes, bytes], error: str, reason: str, failed_at: str
) -> bytes:
    raw = record.value or b""
    try:
        payload: dict[str, Any] = {"payload": raw.decode("utf-8"), "payload_encoding": "utf-8"}
    except UnicodeDecodeError:
        payload = {"payload": base64.b64encode(raw).decode(), "payload_encoding": "base64"}
    return orjson.dumps(
        {
            "service": service,
            "reason": reason,
            "error": error[:4000],
            "source_topic": record.topic,
            "source_partition": record.partition,
            "source_offset": record.offset,
            "failed_at": failed_at,
            **payload,
        }
    )


def _first_of_each(decoded: list[_Decoded], new_ids: set[Any]) -> list[_Decoded]:
    """The not-yet-processed events, each once even if the batch holds it twice."""
    fresh: list[_Decoded] = []
    taken: set[Any] = set()
    for d in decoded:
        if d.event.event_id in new_ids and d.event.event_id not in taken:
            taken.add(d.event.event_id)
            fresh.append(d)
    return fresh


class _BatchOutcome:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + n


async def process_batch(
    records: list[ConsumerRecord[bytes, bytes]],
    *,
    service: str,
    handlers: HandlerTable,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    metrics: RuntimeMetrics,
) -> dict[str, int]:
    """Process records in one transaction; returns counts by outcome.

    Fast path: every handler in one transaction. If one raises a non-transient error the
    transaction is rolled back and the batch re-run with a savepoint per event, so only
    the poison event is dead-lettered. Transient errors propagate to the caller's retry.
    """
    outcome = _BatchOutcome()
    decoded: list[_Decoded] = []
    poison: list[_Poison] = []
    for record in records:
        try:
            event = decode_event(record.value or b"")
        except UnknownEventType as exc:
            # A newer producer's type: not poison, not ours to handle. Counted in
            # events_consumed{outcome="ignored_unknown_type"} and logged here.
            log.debug(
                "ignored record of unknown event type %r (%s[%d]@%d)",
                exc.event_type,
                record.topic,
                record.partition,
                record.offset,
            )
            outcome.add("ignored_unknown_type")
            continue
        except ValueError as exc:
            poison.append(_Poison(record, f"{type(exc).__name__}: {exc}", "malformed"))
            continue
        if type(event) not in handlers:
            outcome.add("skipped")  # a type this topic carries that this service does not need
            continue
        decoded.append(_Decoded(record, event))

    async with uow_factory() as uow:
        new_ids = await uow.mark_processed([d.event for d in decoded])
        fresh = _first_of_each(decoded, new_ids)
        outcome.add("duplicate", len(decoded) - len(fresh))
        try:
            for run in _runs(fresh):
                await _call(handlers[type(run[0])], run, uow)
        except Exception as exc:
            if is_transient(exc):
                raise
            # Slow path: isolate the poison event(s) with a savepoint each.
            await uow.rollback()
            new_ids = await uow.mark_processed([d.event for d in decoded])
            fresh = _first_of_each(decoded, new_ids)
            for d in list(fresh):
                savepoint = await uow.conn.begin_nested()
                emitted_before = uow.emitted
                try:
                    await _call(handlers[type(d.event)], [d.event], uow)
                    await savepoint.commit()
                except Exception as inner:
                    if is_transient(inner):
                        raise
                    await savepoint.rollback()
                    uow.discard_since(emitted_before)
                    log.error(
                        "poison event %s (%s) dead-lettered: %s",
                        d.event.event_id,
                        d.event.event_type,
                        inner,
                        extra={"ticket_id": str(d.event.ticket_id)},
                    )
                    poison.append(
                        _Poison(d.record, "".join(traceback.format_exception_only(inner)).strip(), "handler")
                    )
                    fresh = [f for f in fresh if f is not d]
        outcome.add("processed", len(fresh))
        dlq = dead_letter_topic(service)
        now = clock.now().isoformat()
        for p in poison:
            key = (p.record.key or b"").decode("utf-8", "replace") or "unknown"
            uow.emit_raw(
                topic=dlq.name, key=key, value=_dead_letter_value(service, p.record, p.error, p.reason, now)
            )
            metrics.deadletter_events.labels(reason=p.reason).inc()
        outcome.add("deadlettered", len(poison))
        await uow.commit()
    for name, n in outcome.counts.items():
        metrics.events_consumed.labels(outcome=name).inc(n)
    return outcome.counts


class ConsumerLoop:
    """Consume the given topics as the service's consumer group until stopped."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        *,
        service: str,
        handlers: HandlerTable,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        metrics: RuntimeMetrics,
        max_records: int = 500,
        caught_up: asyncio.Event | None = None,
        behind_records: int | None = None,
    ) -> None:
        self._caught_up = caught_up if caught_up is not None else asyncio.Event()
        self._consumer = consumer
        self._service = service
        self._handlers = handlers
        self._uow_factory = uow_factory
        self._clock = clock
        self._metrics = metrics
        self._max_records = max_records
        # More than this many records behind (or a partition not fetched yet) is "not
        # caught up" again; between 0 and this the flag keeps its state (no flapping).
        self._behind_records = behind_records if behind_records is not None else max_records
        self._stopping = asyncio.Event()

    @property
    def caught_up(self) -> asyncio.Event:
        """Set once a fetch of every assigned partition completed and the loop has read to
        its end; cleared when it falls more than ``behind_records`` behind or is given a
        partition it has not fetched yet, and set again when it has read to the end."""
        return self._caught_up

    def stop(self) -> None:
        """Finish the batch in hand, commit it, and return from :meth:`run`."""
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            batch = await self._consumer.getmany(timeout_ms=200, max_records=self._max_records)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                # An empty poll is not "caught up": the first fetch may still be on its
                # way (issue 7.9). Only a known high watermark says where the end is.
                await self._update_lag()
                continue
            started = time.perf_counter()
            await self._process_with_retry(records)
            await self._commit_offsets(batch)
            self._metrics.consumer_batch_seconds.observe(time.perf_counter() - started)
            await self._update_lag()

    async def _process_with_retry(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        # Transient failures retry forever-ish with capped backoff: the alternative is to
        # dead-letter good events because the database blinked.
        async for attempt in stamina.retry_context(
            on=is_transient, attempts=None, timeout=None, wait_initial=0.1, wait_max=5.0
        ):
            with attempt:
                if attempt.num > 1:
                    self._metrics.handler_retries.inc()
                    log.warning("retrying batch of %d records (attempt %d)", len(records), attempt.num)
                await process_batch(
                    records,
                    service=self._service,
                    handlers=self._handlers,
                    uow_factory=self._uow_factory,
                    clock=self._clock,
                    metrics=self._metrics,
                )

    async def _commit_offsets(
        self, batch: Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items() if records}
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # A rebalance took the partitions away: the new owner re-reads the batch and its
            # inbox already holds every event id, so nothing happens twice.
            log.warning("offset commit failed after rebalance: %s", exc)

    async def _update_lag(self) -> None:
        assigned = self._consumer.assignment()
        lag = 0
        unfetched = False
        for tp in assigned:
            high = self._consumer.highwater(tp)
            if high is None:  # no fetch response for it yet: where its end is, nobody knows
                unfetched = True
                continue
            try:
                # position() waits for a valid one (an offset reset in flight): never long here.
                # asyncio.timeout, not wait_for: wait_for (3.11) makes a task per call, and
                # this runs for every assigned partition after every batch.
                async with asyncio.timeout(1.0):
                    position = await self._consumer.position(tp)
            except (IllegalStateError, TimeoutError):
                unfetched = True  # taken away, or not positioned yet
                continue
            lag += max(0, high - position)
        self._metrics.consumer_lag_events.set(lag)
        if not assigned:
            return
        if unfetched or lag > self._behind_records:
            if self._caught_up.is_set():
                log.info("consumer behind (%d records, unfetched partitions: %s)", lag, unfetched)
            self._caught_up.clear()
        elif lag == 0:
            self._caught_up.set()
