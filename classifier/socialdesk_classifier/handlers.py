"""MessageReceived → MessageClassified."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_classifier.decide import Decider
from socialdesk_classifier.tables import classifications
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import MessageClassified, MessageReceived

PRODUCER = "classifier"


async def classify_message(
    event: MessageReceived, uow: UnitOfWork, *, decider: Decider, clock: Clock
) -> None:
    verdict = decider.decide(event)
    now = clock.now()
    await uow.conn.execute(
        pg_insert(classifications)
        .values(
            message_id=event.message_id,
            ticket_id=event.ticket_id,
            brand=event.brand,
            queue=verdict.queue,
            category=verdict.category,
            priority=verdict.priority,
            sentiment=verdict.sentiment,
            language=verdict.language,
            auto_reply=verdict.auto_reply,
            group_id=verdict.group_id,
            detail={"confidence": verdict.confidence, "reasons": verdict.reasons, "version": verdict.version},
            classified_at=now,
        )
        .on_conflict_do_nothing(index_elements=["message_id"])
    )
    uow.emit(
        event.caused(
            MessageClassified,
            producer=PRODUCER,
            occurred_at=now,
            message_id=event.message_id,
            conversation_id=event.conversation_id,
            customer_id=event.customer_id,
            brand=event.brand,
            platform=event.platform,
            kind=event.kind,
            received_at=event.received_at,
            opens_ticket=event.opens_ticket,
            platform_message_id=event.platform_message_id,
            author_platform_user_id=event.author.platform_user_id,
            author_followers=event.author.followers,
            queue=verdict.queue,
            category=verdict.category,
            priority=verdict.priority,
            sentiment=verdict.sentiment,
            language=verdict.language,
            auto_reply=verdict.auto_reply,
            group_id=verdict.group_id,
            confidence=verdict.confidence,
            reasons=verdict.reasons,
            classifier_version=verdict.version,
        )
    )
