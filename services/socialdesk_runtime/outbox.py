"""The outbox relay: publishes committed outbox rows to Kafka, in order, at least once.

Rows are published in id order and marked published only after the broker acknowledged
them, so a crash between the two re-publishes a few rows (consumers' inboxes drop the
duplicates) and loses none. A published row is kept for a retention window, then pruned:
if the broker loses what it acknowledged (restarted empty, a younger cluster, a topic
recreated; see :mod:`socialdesk_runtime.broker_watch`), the relay marks the retained rows
of those topics unpublished and sends them again, oldest first.

Only one relay per database publishes at a time (an advisory lock), so several replicas
of a service never interleave one ticket's events. The relay reads and marks rows on the
very connection that holds the lock: if that connection drops (and with it the lock,
which another replica may then take), its next statement fails and it stops publishing
until it holds the lock again.

A row the broker refuses for good (too large, invalid) is sent once more alone and, refused
again, parked with a dead letter so later rows go on (:mod:`socialdesk_runtime.outbox_refusals`).
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from socialdesk_runtime.broker_watch import AckLedger, BrokerWatch, TopicUnavailable
from socialdesk_runtime.db import outbox_broker_table, outbox_table
from socialdesk_runtime.errors import is_transient
from socialdesk_runtime.kafka import MAX_BATCH_BYTES
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_runtime.outbox_refusals import (
    OutboxRow,
    count_refused,
    is_refused_record,
    send_in_order,
    settle_refused,
)
from socialdesk_runtime.retention import mark_for_republish, prune_messaging
from socialdesk_runtime.workers import LoopControl

__all__ = ["OutboxRelay"]

log = logging.getLogger(__name__)
_LOCK_KEY = zlib.crc32(b"socialdesk-outbox-relay")
_MARK_PUBLISHED = text("UPDATE outbox SET published_at = :now WHERE id = ANY(:ids)")


class OutboxRelay:
    """Publish pending outbox rows; woken at once by a commit, and by a timer for leftovers.

    With a ``watch`` it checks the broker every ``check_seconds`` (and after any failure)
    and republishes what a broker lost; rows published more than ``retention_seconds``
    ago are pruned every ``prune_seconds``. A refused row's dead letter goes to
    ``service``'s dead-letter topic (none without a ``service``).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        metrics: RuntimeMetrics,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.25,
        watch: BrokerWatch | None = None,
        retention_seconds: float = 7 * 24 * 3600.0,
        inbox_retention_seconds: float = 30 * 24 * 3600.0,
        check_seconds: float = 2.0,
        prune_seconds: float = 60.0,
        service: str | None = None,
    ) -> None:
        self._engine = engine
        self._producer = producer
        self._metrics = metrics
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._watch = watch
        self._retention = timedelta(seconds=retention_seconds)
        self._inbox_retention = timedelta(seconds=inbox_retention_seconds)
        self._check_seconds = check_seconds
        self._prune_seconds = prune_seconds
        self._service = service
        # Set when a batch was refused where its rows pass alone (the broker's batch limit is
        # below the producer's): from then on rows go one by one, in order (decision 0008).
        self._one_by_one = False
        self._control = LoopControl()
        self.notify = self._control.notify  # something committed: publish now, not at the poll
        self._lock_conn: AsyncConnection | None = None
        self._ledger: AckLedger | None = None  # loaded with the lock, dropped with it
        self._usable: frozenset[str] | None = None
        self._cluster_id: str | None = None
        self._saved: set[tuple[str, int]] = set()  # partitions the outbox_broker table has
        self._next_save = 0.0
        self._next_check = 0.0
        self._next_prune = 0.0
        self.republished = 0  # rows marked for republishing after a broker loss (tests read it)
        self.held = 0  # batches held back because a topic was missing

    @property
    def holds_lock(self) -> bool:
        return self._lock_conn is not None

    async def run(self) -> None:
        """Run until :meth:`stop`; then publish what is left and return. Cancelled or not, the
        lock connection is given back on the way out (:meth:`close`)."""
        try:
            while not self._control.stopping:
                try:
                    if not await self._hold_lock():
                        await self._sleep(self._poll_seconds * 4)
                        continue
                    published = await self.publish_pending()
                    await self._prune_if_due()
                    if published < self._batch_size:
                        await self._sleep(self._poll_seconds)
                except Exception as exc:
                    self._next_check = 0.0  # whatever went wrong, look at the broker before sending again
                    if isinstance(exc, TopicUnavailable):
                        self.held += 1
                        log.warning("outbox relay holds: %s", exc)
                    elif not is_transient(exc):
                        log.exception("outbox relay failed; retrying")
                    else:
                        log.warning("outbox relay: %s; retrying", exc)
                    await self._release_lock()
                    await self._sleep(1.0)
            # Drain: a clean shutdown leaves nothing committed-but-unpublished behind.
            try:
                if await self._hold_lock():
                    while await self.publish_pending() > 0:
                        pass
                    if self._lock_conn is not None and self._ledger is not None:
                        await self._save_ledger(self._lock_conn, self._ledger, force=True)
                        await self._lock_conn.commit()
            except Exception:
                log.exception("outbox relay: final drain failed; rows stay for the next start")
        finally:
            await self.close()

    async def close(self) -> None:
        """Give back the lock (another replica may take over) and stop watching the broker.

        :meth:`run` does it on its way out; a caller driving :meth:`publish_pending` by hand
        calls it when done, or the lock's connection stays checked out of the pool."""
        await self._release_lock()
        if self._watch is not None:
            await self._watch.close()

    def stop(self) -> None:
        self._control.stop()

    async def _sleep(self, seconds: float) -> None:
        await self._control.pause(seconds)

    async def _hold_lock(self) -> bool:
        if self._lock_conn is not None:
            return True
        conn = await self._engine.connect()
        try:
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY})).scalar()
            await conn.commit()
            if got:
                rows = (await conn.execute(select(outbox_broker_table))).all()
                await conn.commit()
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._lock_conn = conn
        self._ledger = AckLedger(
            {(r.topic, r.partition): r.acked_offset for r in rows},
            {(r.topic, r.partition): r.cluster_id for r in rows},
        )
        self._saved = set(self._ledger.acked)
        self._next_check = 0.0
        return True

    async def _release_lock(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        self._ledger = None
        if conn is not None:
            try:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                await conn.commit()
            except Exception:
                log.debug("outbox relay: unlock failed (connection gone?)", exc_info=True)
            finally:
                try:
                    await conn.close()
                except Exception:
                    log.debug("outbox relay: closing the lock connection failed", exc_info=True)

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows; return how many (0 without the lock).

        On any failure the lock is let go (another replica may take over) and the error
        raised; rows not acknowledged stay pending.
        """
        if not await self._hold_lock():
            return 0
        try:
            return await self._publish_batch()
        except BaseException:
            await self._release_lock()
            raise

    async def _publish_batch(self) -> int:
        conn, ledger = self._lock_conn, self._ledger
        assert conn is not None
        assert ledger is not None
        started = time.perf_counter()
        cluster_id = await self._check_broker(conn, ledger)
        rows = (
            await conn.execute(
                select(outbox_table.c.id, outbox_table.c.topic, outbox_table.c.key, outbox_table.c.value)
                .where(outbox_table.c.published_at.is_(None))
                .order_by(outbox_table.c.id)
                .limit(self._batch_size)
            )
        ).all()
        if not rows:
            await conn.commit()
            self._metrics.outbox_pending_events.set(0)
            return 0
        # The transaction stays open over the send: select, send, mark is one round trip less.
        if self._usable is not None:
            missing = {r.topic for r in rows} - self._usable
            if missing:
                # Sending would make the client ask for the topic's metadata and wait, or
                # worse land on a topic made with the wrong shape: hold until it exists.
                self._next_check = 0.0
                raise TopicUnavailable(f"topics not on the broker (yet): {', '.join(sorted(missing))}")
        results = await send_in_order(self._producer, rows, one_by_one=self._one_by_one)
        # Mark only the prefix that was acknowledged: a failed row and everything after it
        # stay pending, so they are retried in order (never a later event first).
        failed = next((i for i, r in enumerate(results) if isinstance(r, BaseException)), None)
        done = rows if failed is None else rows[:failed]
        await self._mark_published(conn, ledger, done, results[: len(done)], cluster_id)
        if failed is not None:
            self._metrics.outbox_publish_failures.inc()
            error = results[failed]
            assert isinstance(error, BaseException)
            if not is_refused_record(error):
                raise error
            # The record itself may be at fault: alone it is published or parked, and the
            # rows after it go in the next batch, behind it.
            alone = await settle_refused(
                conn, self._producer, rows[failed], error, service=self._service, metrics=self._metrics
            )
            if alone is not None:
                if not self._one_by_one:
                    log.warning(
                        "the broker refused a record batch whose row passes alone: its batch "
                        "limit is below the producer's %d bytes; this relay now sends row by "
                        "row (slower) until restarted. Raise the topic's max.message.bytes.",
                        MAX_BATCH_BYTES,
                    )
                self._one_by_one = True
                await self._mark_published(conn, ledger, [rows[failed]], [alone], cluster_id)
            self._metrics.outbox_published_events.inc(len(done) + (alone is not None))
            return len(done) + 1
        if len(rows) == self._batch_size:
            pending = (
                await conn.execute(
                    select(func.count())
                    .select_from(outbox_table)
                    .where(outbox_table.c.published_at.is_(None))
                )
            ).scalar_one()
            await conn.commit()
            self._metrics.outbox_pending_events.set(pending)
        else:
            self._metrics.outbox_pending_events.set(0)
        self._metrics.outbox_published_events.inc(len(rows))  # whole batch acknowledged
        self._metrics.outbox_publish_seconds.observe(time.perf_counter() - started)
        return len(rows)

    async def _mark_published(
        self,
        conn: AsyncConnection,
        ledger: AckLedger,
        rows: Sequence[OutboxRow],
        results: Sequence[RecordMetadata | BaseException],
        cluster_id: str,
    ) -> None:
        """Mark ``rows`` published, given the broker's answers to them (no exception among
        them), and remember the acknowledged offsets; offsets that went backwards mean the
        broker lost what it had, and those topics are republished."""
        if not rows:
            return
        lost: set[str] = set()
        for result in results:
            assert isinstance(result, RecordMetadata)
            if not ledger.acknowledged(result.topic, result.partition, result.offset, cluster_id):
                lost.add(result.topic)
        # One array parameter, not 500 bound values: the statement stays one small string.
        await conn.execute(_MARK_PUBLISHED, {"now": datetime.now(UTC), "ids": [r.id for r in rows]})
        await self._save_ledger(conn, ledger)
        await conn.commit()
        if lost:
            await self._republish(conn, ledger, lost, "acknowledged offsets went backwards")

    async def _check_broker(self, conn: AsyncConnection, ledger: AckLedger) -> str:
        """Before every batch: the broker's cluster id (one small round trip). When it
        changed, every ``check_seconds`` and after a failure, also which topics exist.
        Republishes what a loss took, before anything newer is sent."""
        if self._watch is None:
            return ""
        cluster_id = await self._watch.cluster_id()
        existing: frozenset[str] | None = None
        if cluster_id != self._cluster_id or time.monotonic() >= self._next_check:
            view = await self._watch.look()
            cluster_id, existing, self._usable = view.cluster_id, view.existing, view.usable
            self._cluster_id = cluster_id
            self._next_check = time.monotonic() + self._check_seconds
        lost = ledger.lost_topics(cluster_id=cluster_id, existing=existing)
        if lost:
            await self._republish(conn, ledger, lost, "another cluster id, or topics gone")
        return cluster_id

    async def _republish(self, conn: AsyncConnection, ledger: AckLedger, topics: set[str], why: str) -> None:
        marked = await mark_for_republish(conn, topics=topics)
        await conn.execute(
            outbox_broker_table.delete().where(outbox_broker_table.c.topic.in_(sorted(topics)))
        )
        await conn.commit()
        ledger.forget(topics)
        self._saved = {k for k in self._saved if k[0] not in topics}
        self.republished += marked
        self._metrics.outbox_broker_losses.inc()
        self._metrics.outbox_republished_events.inc(marked)
        log.error(
            "the broker lost acknowledged records (%s) on %s; re-publishing %d retained events",
            why,
            ", ".join(sorted(topics)),
            marked,
        )

    async def _save_ledger(self, conn: AsyncConnection, ledger: AckLedger, *, force: bool = False) -> None:
        # A new partition is saved at once (its cluster id is what proves a loss after a
        # restart); offsets that only moved forward at most once a second: a slightly older
        # saved offset still catches a broker that went backwards past it.
        if not ledger.changed:
            return
        fresh = any(key not in self._saved for key in ledger.changed)
        if not (fresh or force) and time.monotonic() < self._next_save:
            return
        self._next_save = time.monotonic() + 1.0
        self._saved |= ledger.changed
        rows = [
            {
                "topic": t,
                "partition": p,
                "acked_offset": ledger.acked[(t, p)],
                "cluster_id": ledger.cluster[(t, p)],
            }
            for t, p in ledger.changed
        ]
        stmt = pg_insert(outbox_broker_table)
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["topic", "partition"],
                set_={"acked_offset": stmt.excluded.acked_offset, "cluster_id": stmt.excluded.cluster_id},
            ),
            rows,
        )
        ledger.changed.clear()

    async def _prune_if_due(self) -> None:
        if time.monotonic() < self._next_prune or self._lock_conn is None:
            return
        self._next_prune = time.monotonic() + self._prune_seconds
        await self.prune(datetime.now(UTC))

    async def prune(self, now: datetime) -> tuple[int, int]:
        """Forget outbox rows published, and inbox ids processed, longer ago than their
        retention (in chunks, one commit each); returns how many of each. Only the relay
        holding the lock prunes (0, 0 without it).

        The inbox remembers an event longer than any outbox may republish it (settings
        check that), so a republished event is still recognised as seen."""
        if not await self._hold_lock() or self._lock_conn is None:
            return 0, 0
        pruned = await prune_messaging(
            self._lock_conn, now, outbox_retention=self._retention, inbox_retention=self._inbox_retention
        )
        self._metrics.outbox_refused_rows.set(await count_refused(self._lock_conn))  # and retried ones gone
        await self._lock_conn.commit()
        return pruned
