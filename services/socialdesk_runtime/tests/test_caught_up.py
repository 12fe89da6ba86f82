"""When is the consumer "caught up"? Only after a fetch said where the end is (issue 7.9).

The loop's decision, with a stand-in for aiokafka's consumer that answers the four calls
the loop makes: no broker is needed to say what an empty poll means.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import TopicPartition

from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.consumer import ConsumerLoop
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.metrics import RuntimeMetrics

TP = TopicPartition("ticket.replies", 0)


class _Partitions:
    """An assigned partition whose high watermark is unknown until a fetch 'completes'."""

    def __init__(self) -> None:
        self.high: int | None = None
        self.pos = 0
        self.polls = 0
        self.polled = asyncio.Event()

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        self.polls += 1
        self.polled.set()
        await asyncio.sleep(0)
        return {}

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.high

    async def position(self, tp: TopicPartition) -> int:
        return self.pos


async def _polls(fake: _Partitions, task: asyncio.Task[None], n: int) -> None:
    target = fake.polls + n
    while fake.polls < target:
        assert not task.done(), task
        fake.polled.clear()
        await asyncio.wait_for(fake.polled.wait(), 5)


async def test_empty_polls_before_the_first_fetch_are_not_caught_up_and_a_lag_clears_it() -> None:
    fake = _Partitions()
    loop = ConsumerLoop(
        fake,  # the four calls the loop makes, nothing more (the consumer type is untyped)
        service="sla-monitor",
        handlers={},
        uow_factory=UnitOfWorkFactory.__new__(UnitOfWorkFactory),  # never used: no records
        clock=FakeClock(),
        metrics=RuntimeMetrics.create("caughtup"),
        max_records=100,
    )
    task = asyncio.create_task(loop.run())
    try:
        await _polls(fake, task, 5)
        assert not loop.caught_up.is_set(), "empty polls before any fetch completed"

        fake.high, fake.pos = 40, 0  # the first fetch: 40 records wait
        await _polls(fake, task, 3)
        assert not loop.caught_up.is_set()

        fake.pos = 40  # read to the end
        await _polls(fake, task, 3)
        assert loop.caught_up.is_set()

        fake.high = 90  # a little lag under load keeps the flag (no flapping)
        await _polls(fake, task, 3)
        assert loop.caught_up.is_set()

        fake.high = 500  # more than a batch behind: not caught up any more
        await _polls(fake, task, 3)
        assert not loop.caught_up.is_set()

        fake.pos = 500
        await _polls(fake, task, 3)
        assert loop.caught_up.is_set()
    finally:
        loop.stop()
        await asyncio.wait_for(task, 5)
