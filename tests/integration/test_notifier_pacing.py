"""Pacing shared by notifier replicas (decision 0403), on PostgreSQL: the store's one-statement
reservation does what the domain's arithmetic says, and two replicas (two engines on one
database, as two processes have) share each lane's slots, holds and rate cuts."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from socialdesk_notifier.bootstrap import SPEC
from socialdesk_notifier.domain import pacing
from socialdesk_notifier.domain.pacing import Ask, Lane, Pace
from socialdesk_notifier.pacing_store import PacingStore
from socialdesk_notifier.senders.pacing import Pacer
from socialdesk_runtime.db import UnitOfWorkFactory
from tests.support import service_store

pytestmark = pytest.mark.integration

SLACK = Pace(ceiling=1 / 1.1)
ACCOUNT = Pace(ceiling=20.0, recipient_interval=1.0, adaptive=True)


@pytest.fixture
async def replicas(fresh_db: str) -> AsyncIterator[tuple[UnitOfWorkFactory, UnitOfWorkFactory]]:
    """Two notifier replicas' units of work: each its own engine (connection pool) on one database."""
    async with AsyncExitStack() as stack:
        _, first = await stack.enter_async_context(service_store(fresh_db, SPEC))
        _, second = await stack.enter_async_context(service_store(fresh_db, SPEC))
        yield first, second


async def test_the_one_statement_reservation_does_what_the_domain_says(
    replicas: tuple[UnitOfWorkFactory, UnitOfWorkFactory],
) -> None:
    uow_factory, _ = replicas
    t = 1_800_000_000.0
    asks = [
        Ask(now=t, max_wait=5),
        Ask(now=t, max_wait=5, recipient="a"),
        Ask(now=t + 0.01, max_wait=5, recipient="a"),  # the recipient's own second
        Ask(now=t + 0.02, max_wait=0.5, recipient="b"),  # too far: refused, nothing moves
        Ask(now=t + 0.02, max_wait=5, recipient="b"),
        Ask(now=t + 0.03, max_wait=5, ahead=5),  # a click's update: ahead of the queue
        Ask(now=t + 4.0, max_wait=5, recipient="c"),  # "a" and "b" are behind now: forgotten
    ]
    for pace in (SLACK, ACCOUNT):
        lane_key = f"test:{pace.ceiling}"
        expected = Lane()
        for ask in asks:
            want, expected = pacing.reserve(expected, pace, ask)
            async with uow_factory.autocommit() as uow:
                got = await PacingStore(uow).reserve(
                    lane_key,
                    pace,
                    max_wait=ask.max_wait,
                    recipient=ask.recipient,
                    ahead=ask.ahead,
                    now=ask.now,
                )
            assert got.granted == want.granted, ask
            assert got.wait == pytest.approx(want.wait, abs=1e-6), ask
            assert got.rate == pytest.approx(want.rate), ask
            async with uow_factory.quiet() as uow:
                stored = await PacingStore(uow).lane(lane_key)
            assert stored is not None
            assert stored.next_at == pytest.approx(expected.next_at, abs=1e-6)
            assert stored.recipients == pytest.approx(dict(expected.recipients), abs=1e-4)
    assert set(expected.recipients) == {"c"}


async def test_two_replicas_reserving_at_once_get_distinct_slots_one_spacing_apart(
    replicas: tuple[UnitOfWorkFactory, UnitOfWorkFactory],
) -> None:
    first, second = (Pacer(f, SLACK, kind="slack-post") for f in replicas)
    turns = await asyncio.gather(*(p.reserve("C0OBLEAD", max_wait=60) for p in [first, second] * 10))
    assert all(t.granted for t in turns)
    # Each turn's wait was measured from its own statement's time; the slots themselves
    # are what must be one spacing apart: next_at moved 20 spacings from the first slot.
    waits = sorted(t.wait for t in turns)
    assert waits[0] == pytest.approx(0, abs=0.05)
    assert waits[-1] == pytest.approx(19 * 1.1, abs=0.2)
    gaps = [b - a for a, b in itertools.pairwise(waits)]
    assert min(gaps) > 1.0, "no two sends of the two replicas within Slack's second"


async def test_a_throttle_one_replica_saw_holds_and_slows_the_other(
    replicas: tuple[UnitOfWorkFactory, UnitOfWorkFactory],
) -> None:
    first, second = (Pacer(f, ACCOUNT, kind="account") for f in replicas)
    assert (await second.reserve("page", recipient="r1", max_wait=1)).granted
    await first.throttled("page", hold_seconds=3.0)  # a 613 answered to the first replica
    refused = await second.reserve("page", recipient="r2", max_wait=1)
    assert not refused.granted and refused.wait == pytest.approx(3.0, abs=0.2)
    late = await second.reserve("page", recipient="r2", max_wait=5)
    assert late.granted and late.rate == 10.0, "the rate is halved for every replica"
    # Clean sends bring it back, whichever replica makes them.
    for pacer in [first, second] * 2:
        turn = await pacer.reserve("page", recipient=None, max_wait=60)
        await pacer.sent("page", turn)
    assert (await first.lane("page")).rate == pytest.approx(10.0 * 1.1**4)


async def test_a_recipients_pair_limit_is_shared_and_not_kept_in_the_clear(
    replicas: tuple[UnitOfWorkFactory, UnitOfWorkFactory],
) -> None:
    first, second = (Pacer(f, ACCOUNT, kind="account") for f in replicas)
    first_send = await first.reserve("phone", recipient="15551230000", max_wait=5)
    assert first_send.wait == pytest.approx(0, abs=0.05)
    other = await second.reserve("phone", recipient="15559990000", max_wait=5)
    assert other.wait < 0.1, "another customer only waits the account's turn"
    again = await second.reserve("phone", recipient="15551230000", max_wait=5)
    assert again.granted and again.wait == pytest.approx(1.0, abs=0.05), "one send a second to one customer"
    await first.throttled("phone", recipient="15559990000", hold_seconds=6.0)
    held = await second.reserve("phone", recipient="15559990000", max_wait=5)
    assert not held.granted and held.wait == pytest.approx(6.0, abs=0.2)
    lane = await first.lane("phone")
    assert lane.recipients and not any("1555" in key for key in lane.recipients)
    assert math.isfinite(lane.next_at)
