"""MessageReceived → MessageClassified (+ TrendDetected / SpikeDetected)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_classifier.decide import Decider, Verdict
from socialdesk_classifier.engine import Engine, Outcome, snapshot_due
from socialdesk_classifier.tables import classifications, engine_state
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import MessageClassified, MessageReceived, SpikeDetected, TrendDetected

PRODUCER = "classifier"


@dataclass
class Snapshots:
    """When the engine's state was last written, and how often to write it."""

    every_seconds: float = 30.0
    last: datetime | None = field(default=None)


def _outcome(event: MessageReceived, decider: Decider | Engine) -> Outcome:
    if isinstance(decider, Engine):
        return decider.process(event)
    return Outcome(verdict=decider.decide(event), trend=None, spike=None)


async def classify_message(
    event: MessageReceived,
    uow: UnitOfWork,
    *,
    decider: Decider | Engine,
    clock: Clock,
    snapshots: Snapshots | None = None,
) -> None:
    await classify_messages([event], uow, decider=decider, clock=clock, snapshots=snapshots)


async def classify_messages(
    events: list[MessageReceived],
    uow: UnitOfWork,
    *,
    decider: Decider | Engine,
    clock: Clock,
    snapshots: Snapshots | None = None,
) -> None:
    """Classify a batch: one INSERT for all decisions, the events to the outbox."""
    now = clock.now()
    outcomes = [_outcome(event, decider) for event in events]
    await uow.conn.execute(
        pg_insert(classifications).on_conflict_do_nothing(index_elements=["message_id"]),
        [
            {
                "message_id": event.message_id,
                "ticket_id": event.ticket_id,
                "brand": event.brand,
                "queue": o.verdict.queue,
                "category": o.verdict.category,
                "priority": o.verdict.priority,
                "sentiment": o.verdict.sentiment,
                "language": o.verdict.language,
                "auto_reply": o.verdict.auto_reply,
                "group_id": o.verdict.group_id,
                "detail": {
                    "confidence": o.verdict.confidence,
                    "reasons": o.verdict.reasons,
                    "version": o.verdict.version,
                },
                "classified_at": now,
                "post": event.model_dump(mode="json"),
            }
            for event, o in zip(events, outcomes, strict=True)
        ],
    )
    for event, outcome in zip(events, outcomes, strict=True):
        _emit(event, outcome, uow, now)
    if (
        isinstance(decider, Engine)
        and snapshots is not None
        and snapshot_due(snapshots.last, now, snapshots.every_seconds)
    ):
        # In the batch's transaction: the snapshot and the inbox agree on what was seen.
        blob = decider.snapshot()
        await uow.conn.execute(
            pg_insert(engine_state)
            .values(id=1, blob=blob, saved_at=now)
            .on_conflict_do_update(index_elements=["id"], set_={"blob": blob, "saved_at": now})
        )
        snapshots.last = now


def _emit(event: MessageReceived, outcome: Outcome, uow: UnitOfWork, now: datetime) -> None:
    verdict: Verdict = outcome.verdict
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
    if outcome.trend is not None:
        t = outcome.trend
        uow.emit(
            event.caused(
                TrendDetected,
                producer=PRODUCER,
                occurred_at=now,
                brand=t.brand,
                group_id=t.group_id,
                volume=t.volume,
                window_seconds=t.window_seconds,
                sample_text=event.text[:280],
            )
        )
    if outcome.spike is not None:
        s = outcome.spike
        uow.emit(
            event.caused(
                SpikeDetected,
                producer=PRODUCER,
                occurred_at=now,
                brand=s.brand,
                severity=s.severity,
                volume=s.volume,
                baseline_volume=s.baseline_volume,
                negative_share=min(1.0, s.negative_share),
                baseline_negative_share=min(1.0, s.baseline_negative_share),
                window_seconds=s.window_seconds,
                score=s.score,
            )
        )
