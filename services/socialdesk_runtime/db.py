"""The store: one PostgreSQL database per service, touched through a unit of work.

Every service database holds two runtime tables beside its own:
- ``inbox``: the ``event_id`` of every event already processed, so a redelivered record
  changes nothing (written in the same transaction as the state change);
- ``outbox``: events to publish, written in the same transaction as the state change and
  published by :class:`socialdesk_runtime.outbox.OutboxRelay`. A published row is kept
  (``published_at`` set) for a retention window, so a broker that lost acknowledged
  records can be given them again;
- ``outbox_broker``: per topic partition, the highest offset the broker acknowledged to
  this database's relay and the cluster id it did so under: another cluster id, or an
  offset that goes backwards, proves the broker lost data;
- ``outbox_refused``: outbox rows the broker refused for good (too large, invalid), moved
  out of the outbox so later events are not held back; an operator sends them again with
  ``socialdesk outbox retry`` (see :mod:`socialdesk_runtime.outbox_refusals`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from socialdesk_runtime.topology import check_writer
from socialdesk_schemas import Event, encode_event, topic_for_event

__all__ = [
    "UnitOfWork",
    "UnitOfWorkFactory",
    "create_engine",
    "inbox_table",
    "messaging_metadata",
    "outbox_broker_table",
    "outbox_refused_table",
    "outbox_table",
]

messaging_metadata = MetaData()

inbox_table = Table(
    "inbox",
    messaging_metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Pruned after the inbox retention; rows arrive in processed_at order, so BRIN fits.
    Index("inbox_processed_at", "processed_at", postgresql_using="brin"),
)

outbox_table = Table(
    "outbox",
    messaging_metadata,
    # Publication order is id order: one ticket's events leave in the order they were written.
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("topic", String(128), nullable=False),
    Column("key", Text, nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("event_id", Uuid, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # NULL: still to publish. Set when the broker acknowledged it; pruned after retention.
    Column("published_at", DateTime(timezone=True), nullable=True),
    Index("outbox_pending", "id", postgresql_where=text("published_at IS NULL")),
)

outbox_broker_table = Table(
    "outbox_broker",
    messaging_metadata,
    Column("topic", String(128), primary_key=True),
    Column("partition", Integer, primary_key=True, autoincrement=False),
    Column("acked_offset", BigInteger, nullable=False),
    Column("cluster_id", String(200), nullable=False),
)

outbox_refused_table = Table(
    "outbox_refused",
    messaging_metadata,
    # The outbox id it had: what the dead letter and the relay's log name.
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("topic", String(128), nullable=False),
    Column("key", Text, nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("event_id", Uuid, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("refused_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("error", Text, nullable=False),
)


# Hot-path statements of every consumed batch, as one statement of constant text whatever
# the batch size: the rows travel as one array per column (unnest). An executemany of N
# rows is rendered by SQLAlchemy as a multi-row VALUES of N rows, a new statement text for
# every batch size, each compiled, and prepared and planned by PostgreSQL again.
_INBOX_INSERT = text(
    "INSERT INTO inbox (event_id, event_type) "
    "SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS text[])) "
    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
).columns(event_id=Uuid)
# ORDER BY the position in the arrays: ids (the publication order) follow emit order.
_OUTBOX_INSERT = text(
    "INSERT INTO outbox (topic, key, value, event_id) "
    "SELECT topic, key, value, event_id FROM unnest("
    "CAST(:topics AS text[]), CAST(:keys AS text[]), CAST(:values AS bytea[]), "
    "CAST(:event_ids AS uuid[])) WITH ORDINALITY AS r(topic, key, value, event_id, n) ORDER BY n"
)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An asyncpg engine. Created at start by bootstrap, never at import."""
    return create_async_engine(
        url,
        # JSON columns (decision details, delivery payloads) through orjson, not json.
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip per unit of work, and a dead connection
        # surfaces as a transient error that the caller retries anyway.
        pool_pre_ping=False,
        pool_recycle=1800,
    )


class UnitOfWork:
    """One database transaction and the events it will publish.

    Rolls back unless :meth:`commit` is called. Events given to :meth:`emit` are written
    to the outbox inside the same transaction, so state and events commit together.

    Usage::

        async with uow_factory() as uow:
            await uow.conn.execute(...)
            uow.emit(ticket_assigned)
            await uow.commit()
    """

    def __init__(
        self,
        engine: AsyncEngine,
        on_commit: Callable[[UnitOfWork], None] | None = None,
        *,
        service: str | None = None,
        autocommit: bool = False,
    ) -> None:
        self._engine = engine
        self._on_commit = on_commit
        self._service = service
        self._autocommit = autocommit
        self.published = 0
        self._conn: AsyncConnection | None = None
        self._pending: list[dict[str, Any]] = []
        self.committed = False

    @property
    def conn(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("UnitOfWork used outside 'async with'")
        return self._conn

    async def __aenter__(self) -> UnitOfWork:
        self._conn = await self._engine.connect()
        await self._conn.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if not self.committed and conn.in_transaction():
                await conn.rollback()
        finally:
            # A cancelled task must still give the connection back to the pool.
            await asyncio.shield(conn.close())

    def emit(self, event: Event) -> None:
        """Publish ``event`` once this unit of work commits (to its topic in the registry).

        When the unit of work knows its service, an event whose topic has another writer
        is refused at once (:class:`~socialdesk_runtime.topology.NotTheWriterError`).
        """
        if self._autocommit:
            raise RuntimeError("an autocommit unit of work cannot emit: its statements commit one by one")
        topic = topic_for_event(event) if self._service is None else check_writer(self._service, event)
        self._pending.append(
            {
                "topic": topic.name,
                "key": str(getattr(event, topic.key)),
                "value": encode_event(event),
                "event_id": event.event_id,
            }
        )

    def emit_raw(self, *, topic: str, key: str, value: bytes, event_id: uuid.UUID | None = None) -> None:
        """Publish a prepared record (dead letters) once this unit of work commits."""
        self._pending.append({"topic": topic, "key": key, "value": value, "event_id": event_id})

    def discard_since(self, count: int) -> None:
        """Forget events emitted after the first ``count`` (a rolled-back savepoint's)."""
        del self._pending[count:]

    @property
    def emitted(self) -> int:
        return len(self._pending)

    async def flush(self) -> None:
        """Write the collected events to the outbox (done by :meth:`commit`)."""
        if self._pending:
            rows = self._pending
            await self.conn.execute(
                _OUTBOX_INSERT,
                {
                    "topics": [r["topic"] for r in rows],
                    "keys": [r["key"] for r in rows],
                    "values": [r["value"] for r in rows],
                    "event_ids": [r["event_id"] for r in rows],
                },
            )
            self.published += len(rows)
            self._pending = []

    async def commit(self) -> None:
        await self.flush()
        await self.conn.commit()
        self.committed = True
        if self._on_commit is not None:
            self._on_commit(self)

    async def rollback(self) -> None:
        self._pending = []
        self.published = 0
        await self.conn.rollback()
        await self.conn.begin()

    async def mark_processed(self, events: list[Event]) -> set[uuid.UUID]:
        """Record events in the inbox; return the ids that were not there before."""
        if not events:
            return set()
        types: dict[uuid.UUID, str] = {}
        for e in events:
            types.setdefault(e.event_id, e.event_type)
        result = await self.conn.execute(_INBOX_INSERT, {"ids": list(types), "types": list(types.values())})
        return {row[0] for row in result}


class UnitOfWorkFactory:
    """Makes units of work on one engine, and tells listeners what committed.

    ``on_publish`` listeners (the outbox relay) hear only of commits that wrote outbox
    rows; ``on_commit`` listeners hear of every commit. A loop that commits must not
    listen to its own commits, or it wakes itself forever. With ``service`` its units of
    work refuse to emit to a topic that service is not the single writer of.
    """

    def __init__(self, engine: AsyncEngine, *, service: str | None = None) -> None:
        self.engine = engine
        self.service = service
        self._autocommit_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._commit_listeners: list[Callable[[], object]] = []
        self._publish_listeners: list[Callable[[], None]] = []

    def on_commit(self, callback: Callable[[], object]) -> None:
        self._commit_listeners.append(callback)

    def on_publish(self, callback: Callable[[], None]) -> None:
        self._publish_listeners.append(callback)

    def _notify(self, uow: UnitOfWork) -> None:
        if uow.published:
            for cb in self._publish_listeners:
                cb()
        for listener in self._commit_listeners:
            listener()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.engine, on_commit=self._notify, service=self.service)

    def autocommit(self) -> UnitOfWork:
        """A unit of work whose every statement commits on its own: no ``BEGIN`` and no
        ``COMMIT`` round trips, for a hot path that is one atomic statement (the notifier's
        pacing). It cannot emit; rolling back undoes nothing; nobody is told of its commits.
        """
        return UnitOfWork(self._autocommit_engine, service=self.service, autocommit=True)

    def quiet(self) -> UnitOfWork:
        """A unit of work whose commit tells only the relay (for loops that commit)."""

        def publish_only(uow: UnitOfWork) -> None:
            if uow.published:
                for cb in self._publish_listeners:
                    cb()

        return UnitOfWork(self.engine, on_commit=publish_only, service=self.service)
