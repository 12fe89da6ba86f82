"""Group commit for intake: concurrent requests share one transaction.

Each request waits for the transaction its message went into; a batch is flushed as
soon as the previous one finished, so an idle system adds no delay and a busy one
amortises the statements (and the commit's fsync) over every message waiting. A batch
that fails is retried message by message, so one bad message fails alone.
"""

from __future__ import annotations

import asyncio
import logging

import stamina

from socialdesk_ingest.domain import Accepted
from socialdesk_ingest.handlers import Offer, accept_batch
from socialdesk_ingest.store import ConcurrentDuplicate
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.errors import is_transient

log = logging.getLogger(__name__)


class IntakeBatcher:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, *, clock: Clock, idle_seconds: float, max_batch: int = 200
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._idle_seconds = idle_seconds
        self._max_batch = max_batch
        self._queue: list[tuple[Offer, asyncio.Future[Accepted]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, offer: Offer) -> Accepted:
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        self._queue.append((offer, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="intake-batcher")
        # Shielded: a client that hangs up does not cancel the others' transaction.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            try:
                results = await self._accept([o for o, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc)
                    continue
                log.warning("intake batch of %d failed (%s); storing one by one", len(batch), exc)
                for offer, future in batch:
                    try:
                        (result,) = await self._accept([offer])
                    except Exception as single:
                        _settle(future, single)
                    else:
                        _settle(future, result)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                _settle(future, result)

    async def _accept(self, offers: list[Offer]) -> list[Accepted]:
        async for attempt in stamina.retry_context(
            on=lambda e: isinstance(e, ConcurrentDuplicate) or is_transient(e), attempts=5, wait_initial=0.05
        ):
            with attempt:
                async with self._uow_factory() as uow:
                    results = await accept_batch(
                        offers, uow, clock=self._clock, idle_seconds=self._idle_seconds
                    )
                    await uow.commit()
                    return results
        raise AssertionError("unreachable")  # pragma: no cover


def _settle(future: asyncio.Future[Accepted], outcome: Accepted | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
