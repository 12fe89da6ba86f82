"""Group commit for intake: concurrent requests share one transaction.

Each request waits for the transaction its message went into; a batch is flushed as
soon as the previous one finished, so an idle system adds no delay and a busy one
amortises the statements (and the commit's fsync) over every message waiting. A batch
that fails is retried item by item, so one bad message fails alone; unless the failure is
not the items' (the database is away): then the batch fails whole, and the queue is
bounded, so an outage answers 503 quickly instead of growing a queue for minutes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["IntakeBatcher", "IntakeOverloaded"]

log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")


class IntakeOverloaded(Exception):
    """More requests wait than the queue holds: answer 503 now rather than queue without bound."""


class IntakeBatcher(Generic[In, Out]):
    """Queue items from concurrent callers and hand them to ``store`` in batches.

    ``store`` takes a batch and returns one result per item, in order (for intake:
    :func:`socialdesk_ingest.handlers.accept_offers`, one transaction per call).

    Usage::

        batcher = IntakeBatcher(store)
        accepted = await batcher.submit(offer)  # answered once its batch has committed
    """

    def __init__(
        self,
        store: Callable[[list[In]], Awaitable[list[Out]]],
        *,
        max_batch: int = 200,
        max_waiting: int = 5000,
        max_concurrent: int = 1,
        fails_whole: Callable[[Exception], bool] = lambda _: False,
    ) -> None:
        """``fails_whole(exc)`` says a failure is not the items' fault (the database is
        away): the whole batch fails at once instead of being retried item by item, so a
        queue under an outage drains in one round trip instead of one per item.
        ``max_concurrent`` batches may be stored at once (on as many connections): more
        than one hides the database's round trips when batches cannot conflict."""
        self._store = store
        self._max_batch = max_batch
        self._max_waiting = max_waiting
        self._max_concurrent = max_concurrent
        self._fails_whole = fails_whole
        self._queue: list[tuple[In, asyncio.Future[Out]]] = []
        self._running: set[asyncio.Task[None]] = set()
        self._starting = False

    @property
    def busy(self) -> bool:
        """Items wait or a batch is being stored right now."""
        return bool(self._queue or self._running)

    async def submit(self, item: In) -> Out:
        """Answered once its batch has committed; :class:`IntakeOverloaded` at once if the
        queue is full."""
        if len(self._queue) >= self._max_waiting:
            raise IntakeOverloaded(f"{len(self._queue)} requests already waiting")
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._start_batches()
        # Shielded: a client that hangs up does not cancel the others' transaction.
        return await asyncio.shield(future)

    def _start_batches(self) -> None:
        # At most one batch task waits to start: it takes everything queued by the time
        # it runs, so callers of the same moment share a batch.
        if self._queue and not self._starting and len(self._running) < self._max_concurrent:
            self._starting = True
            task = asyncio.create_task(self._run(), name="intake-batch")
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        # Everything that queued while this batch was stored goes together into the next.
        self._start_batches()

    async def _run(self) -> None:
        self._starting = False
        batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        if not batch:
            return
        self._start_batches()
        try:
            results = await self._store([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1 or self._fails_whole(exc):
                for _, future in batch:
                    _settle(future, exc)
                return
            log.warning("intake batch of %d failed (%s); storing one by one", len(batch), exc)
            for i, (item, future) in enumerate(batch):
                try:
                    (result,) = await self._store([item])
                except Exception as single:
                    _settle(future, single)
                    if self._fails_whole(single):
                        # The database went away meanwhile: the rest fail with it.
                        for _, rest in batch[i + 1 :]:
                            _settle(rest, single)
                        break
                else:
                    _settle(future, result)
            return
        except BaseException as exc:  # cancelled at shutdown: nobody waits for ever
            for _, future in batch:
                _settle(future, exc)
            raise
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)


def _settle(future: asyncio.Future[Out], outcome: Out | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
