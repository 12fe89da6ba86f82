"""MessageReceived → MessageClassified (+ TrendDetected / SpikeDetected): decide, save, emit.

Batched: one INSERT for a batch's decisions, whatever its size (decision record 0006).
"""

from __future__ import annotations

from dataclasses import dataclass

from socialdesk_classifier.domain import Decider, Engine, Snapshots, publications
from socialdesk_classifier.metrics import ClassifierMetrics
from socialdesk_classifier.store import ClassifierStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.consumer import Batch, HandlerTable
from socialdesk_runtime.db import UnitOfWork, UnitOfWorkFactory
from socialdesk_schemas import MessageReceived

__all__ = ["ClassifierHandlers", "restore_engine"]


@dataclass
class ClassifierHandlers:
    decider: Decider
    clock: Clock
    metrics: ClassifierMetrics
    #: The engine's snapshot schedule; ``None`` for a stateless decider.
    snapshots: Snapshots | None = None

    def table(self) -> HandlerTable:
        return {MessageReceived: Batch(self.message_received)}

    async def message_received(self, messages: list[MessageReceived], uow: UnitOfWork) -> None:
        now = self.clock.now()
        outcomes = [self.decider.decide(m) for m in messages]
        store = ClassifierStore(uow)
        await store.add_decisions([(m, o.decision) for m, o in zip(messages, outcomes, strict=True)], at=now)
        for message, outcome in zip(messages, outcomes, strict=True):
            for event in publications(message, outcome, now):
                uow.emit(event)
            self.metrics.observe(outcome)
        if self.snapshots is not None and (blob := self.snapshots.due(now)) is not None:
            # In the batch's transaction: the snapshot and the inbox agree on what was seen.
            await store.save_snapshot(blob, at=now)
            self.snapshots.written(now)
            self.metrics.snapshot_bytes.set(len(blob))


async def restore_engine(uow_factory: UnitOfWorkFactory, engine: Engine, *, replay_limit: int) -> int:
    """At start: load the last snapshot and replay what was decided after it; return how many."""
    async with uow_factory() as uow:
        store = ClassifierStore(uow)
        snapshot = await store.last_snapshot()
        if snapshot is not None:
            engine.restore(snapshot[0])
        messages = await store.messages_decided(
            after=snapshot[1] if snapshot is not None else None, limit=replay_limit
        )
    for message in messages:
        engine.replay(message)
    return len(messages)
