"""When a consumer's commit wakes the scheduler (no database: the doorbell alone).

A wake-up costs a transaction and six look-ups; at a hundred messages a second most
commits (customer messages, classifications, deadlines hours away) must not ring.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from prometheus_client import CollectorRegistry

from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import load_config
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_sla_monitor.domain import FIRST_RESPONSE, Timer
from socialdesk_sla_monitor.metrics import SlaMetrics
from socialdesk_sla_monitor.scheduler import SlaScheduler

CONFIG = Path(__file__).resolve().parents[2] / "tests" / "data" / "socialdesk.test.yaml"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _scheduler(clock: FakeClock) -> SlaScheduler:
    return SlaScheduler(
        uow_factory=cast(UnitOfWorkFactory, object()),  # never used by the doorbell
        config=load_config(CONFIG),
        clock=clock,
        metrics=SlaMetrics.create(CollectorRegistry()),
    )


def _timer(*, deadline_in: float, warn_in: float | None = None, warned: bool = False) -> Timer:
    return Timer(
        ticket_id=uuid.uuid4(),
        metric=FIRST_RESPONSE,
        correlation_id=uuid.uuid4(),
        brand="ourbus",
        platform="x",
        priority="medium",
        state="armed",
        started_at=START,
        deadline=START + timedelta(seconds=deadline_in),
        warn_at=None if warn_in is None else START + timedelta(seconds=warn_in),
        warned=warned,
    )


async def _asleep(scheduler: SlaScheduler, until: datetime) -> asyncio.Task[None]:
    task = asyncio.create_task(scheduler._sleep_until(until))
    while scheduler._asleep_until is None:  # the task has started sleeping
        await asyncio.sleep(0)
    return task


async def test_a_commit_that_armed_nothing_sooner_lets_the_scheduler_sleep() -> None:
    clock = FakeClock(START)
    scheduler = _scheduler(clock)
    sleeping = await _asleep(scheduler, START + timedelta(hours=1))
    assert scheduler.committed() is False  # nothing armed at all (a customer message)
    scheduler.armed([_timer(deadline_in=7200, warn_in=5400)])
    assert scheduler.committed() is False  # due after the planned wake-up
    scheduler.armed([_timer(deadline_in=7200, warn_in=60, warned=True)])
    assert scheduler.committed() is False  # its warning went out: the deadline counts
    for _ in range(5):  # a rung bell would end the sleep within a turn of the loop or two
        await asyncio.sleep(0)
    assert not sleeping.done()
    sleeping.cancel()


async def test_a_commit_that_armed_a_timer_due_sooner_wakes_it() -> None:
    clock = FakeClock(START)
    scheduler = _scheduler(clock)
    sleeping = await _asleep(scheduler, START + timedelta(hours=1))
    scheduler.armed([_timer(deadline_in=7200), _timer(deadline_in=7200, warn_in=600)])
    assert scheduler.committed() is True
    await asyncio.wait_for(sleeping, timeout=5)  # woken, the fake clock never moved
    assert scheduler.committed() is False  # told once: the next commit armed nothing


@pytest.mark.parametrize("deadline_in", [7200, -10])
async def test_while_a_pass_runs_every_arming_commit_rings(deadline_in: float) -> None:
    # The pass may have read the timers before this commit: it must look again.
    scheduler = _scheduler(FakeClock(START))
    scheduler.armed([_timer(deadline_in=deadline_in)])
    assert scheduler.committed() is True
