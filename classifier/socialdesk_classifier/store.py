"""The classifier's repository: decisions (with the message they were made from) and the
detectors' snapshot. The only module of the service with SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_classifier.nlp import Decision
from socialdesk_classifier.tables import classifications, engine_state
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import MessageReceived

__all__ = ["ClassifierStore"]

_SNAPSHOT_ID = 1


class ClassifierStore:
    """Reads and writes inside one unit of work (the batch's transaction)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def add_decisions(
        self, decided: Sequence[tuple[MessageReceived, Decision]], *, at: datetime
    ) -> None:
        """One INSERT for a batch of decisions; a message decided before keeps its first row."""
        if not decided:
            return
        await self._uow.conn.execute(
            pg_insert(classifications).on_conflict_do_nothing(index_elements=["message_id"]),
            [
                {
                    "message_id": message.message_id,
                    "ticket_id": message.ticket_id,
                    "brand": message.brand,
                    "queue": d.queue,
                    "category": d.category,
                    "priority": d.priority,
                    "sentiment": d.sentiment,
                    "language": d.language,
                    "auto_reply": d.auto_reply,
                    "group_id": d.group_id,
                    "detail": {"confidence": d.confidence, "reasons": d.reasons, "version": d.version},
                    "classified_at": at,
                    # The message as decided: replayed into the detectors after a restart.
                    "post": message.model_dump(mode="json"),
                }
                for message, d in decided
            ],
        )

    async def save_snapshot(self, blob: bytes, *, at: datetime) -> None:
        await self._uow.conn.execute(
            pg_insert(engine_state)
            .values(id=_SNAPSHOT_ID, blob=blob, saved_at=at)
            .on_conflict_do_update(index_elements=["id"], set_={"blob": blob, "saved_at": at})
        )

    async def last_snapshot(self) -> tuple[bytes, datetime] | None:
        row = (await self._uow.conn.execute(select(engine_state.c.blob, engine_state.c.saved_at))).first()
        return None if row is None else (row.blob, row.saved_at)

    async def messages_decided(self, *, after: datetime | None, limit: int) -> list[MessageReceived]:
        """The last ``limit`` messages decided after ``after`` (all when ``None``), oldest first."""
        query = select(classifications.c.post).where(classifications.c.post.is_not(None))
        if after is not None:
            query = query.where(classifications.c.classified_at > after)
        rows = (
            await self._uow.conn.execute(query.order_by(classifications.c.classified_at.desc()).limit(limit))
        ).all()
        return [MessageReceived.model_validate(post) for (post,) in reversed(rows)]
