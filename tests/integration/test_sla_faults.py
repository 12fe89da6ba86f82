"""sla-monitor under the faults issue 7 found: reopened tickets, poison timers, replies read
late, resolutions read late. Each test failed before its fix.

Through the real bootstrap on PostgreSQL with a fake clock, like ``test_sla_monitor``.
"""

from __future__ import annotations

import uuid

import pytest

from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import SlaBreached, TicketEscalated
from socialdesk_sla_monitor.bootstrap import SPEC
from tests.integration.test_sla_monitor import (
    assigned,
    emitted,
    replied,
    resolved,
    running,
)
from tests.support import booted, config_for_tests

pytestmark = pytest.mark.integration


def breached(events: list[object]) -> set[uuid.UUID]:
    return {e.ticket_id for e in events if isinstance(e, SlaBreached)}


async def test_a_reopened_ticket_gets_a_new_timer(fresh_db: str) -> None:
    # Issue 7.2: the re-arm on TicketAssigned only updated the owner of a finished timer.
    clock = FakeClock()
    async with running(fresh_db, clock) as sla:
        ticket = uuid.uuid4()
        await sla.handle(assigned(clock, ticket))
        clock.advance(seconds=1)
        await sla.handle(replied(clock, ticket))
        clock.advance(seconds=1)
        await sla.handle(resolved(clock, ticket))
        assert await sla.tick(10.0) == []
        # The customer wrote again: the desk routes the reopened ticket afresh.
        await sla.handle(assigned(clock, ticket))
        assert await sla.tick(3.9) != [], "the new timer warns (at half of 4 s)"
        fired = await sla.tick(0.2)
        assert breached(fired) == {ticket}, "and breaches 4 s after the reopening"


async def test_a_late_resolution_never_cancels_a_reopened_tickets_new_timer(fresh_db: str) -> None:
    # Issue 7.7: resolve and reassignment travel on different topics; the resolve of the
    # first episode may be read after the ticket was reopened.
    clock = FakeClock()
    async with running(fresh_db, clock) as sla:
        ticket = uuid.uuid4()
        await sla.handle(assigned(clock, ticket))
        clock.advance(seconds=1)
        first_resolve = resolved(clock, ticket)  # made now, read late
        clock.advance(seconds=1)
        await sla.handle(assigned(clock, ticket))  # reopened at 2 s
        await sla.handle(first_resolve)
        fired = await sla.tick(4.1)
        assert breached(fired) == {ticket}, "the reopened ticket's clock still runs"
        # A resolution made after the reopening does cancel it.
        await sla.handle(resolved(clock, ticket))
        assert await sla.tick(30.0) == [], "resolved after the reopening: no climb"


async def test_a_poison_timer_is_parked_and_every_other_timer_still_fires(fresh_db: str) -> None:
    # Issue 7.5: a timer whose brand left the configuration raised in the breach, the
    # firing transaction rolled back, and the same row was picked first every pass.
    clock = FakeClock()
    base = config_for_tests()
    leaving = base.brand("ourbus").model_copy(update={"id": "oldbus"})
    with_old_brand = base.model_copy(update={"brands": [*base.brands, leaving]})
    stray = uuid.uuid4()
    async with booted(SPEC, fresh_db, clock=clock, config=with_old_brand) as before:
        await before.feed(assigned(clock, stray).model_copy(update={"brand": "oldbus"}))
    good = [uuid.uuid4() for _ in range(3)]
    async with running(fresh_db, clock) as sla:  # the brand is gone from the configuration
        await sla.handle(*(assigned(clock, t) for t in good))
        fired = await sla.tick(4.5)
        assert breached(fired) == set(good)
        assert sla.sample("sla_monitor_timers_parked_total", metric="first_response") == 1
        assert await sla.tick(8.0) != [], "the others climb the ladder; the parked one stays quiet"
        assert sla.sample("sla_monitor_timers_parked_total", metric="first_response") == 1


async def test_a_reply_made_in_time_but_read_after_the_deadline_never_pages(fresh_db: str) -> None:
    # Issue 7.6: a reply at 3 s of a 4 s SLA, delayed by the relay or the broker.
    clock = FakeClock()
    async with running(fresh_db, clock, settings={"reply_grace_seconds": 2.0}) as sla:
        ticket, unanswered = uuid.uuid4(), uuid.uuid4()
        await sla.handle(assigned(clock, ticket), assigned(clock, unanswered))
        await sla.tick(3.0)  # warnings at 2 s
        reply = replied(clock, ticket)  # made at 3 s, in time
        fired = await sla.tick(1.5)  # 4.5 s: past the deadline, within the grace
        assert fired == [], "no breach is judged within the grace period"
        await sla.handle(reply)
        fired = await sla.tick(1.6)  # 6.1 s: past deadline and grace (4 s + 2 s)
        assert breached(fired) == {unanswered}
        assert await sla.tick(30.0) != []  # the unanswered one climbs; the answered stays quiet
        assert ticket not in {e.ticket_id for e in await emitted(sla.svc)}
        assert sla.sample("sla_monitor_timers_met_total", metric="first_response", outcome="in_time") == 1


async def test_deadlines_wait_while_the_consumer_lags_behind(fresh_db: str) -> None:
    # Issue 7.6: "caught up" was checked only at start; a lag later (a stalled broker,
    # a rebalance) must hold breaches too, until the waiting replies are read.
    clock = FakeClock()
    settings = {"reply_grace_seconds": 0.5, "lag_hold_max_seconds": 600.0}
    async with running(fresh_db, clock, settings=settings) as sla:
        ticket = uuid.uuid4()
        await sla.handle(assigned(clock, ticket))
        clock.advance(seconds=3)
        reply = replied(clock, ticket)
        sla.svc.runtime.consumer_caught_up.clear()  # the consumer fell behind
        assert breached(await sla.tick(30.0)) == set(), "no breach judged while replies may be unread"
        await sla.handle(reply)
        sla.svc.runtime.consumer_caught_up.set()
        sla.scheduler.notify()
        assert await sla.tick(1.0) == []
        assert sla.sample("sla_monitor_timers_met_total", metric="first_response", outcome="in_time") == 1


async def test_a_long_lag_does_not_hold_breaches_forever(fresh_db: str) -> None:
    clock = FakeClock()
    settings = {"reply_grace_seconds": 0.5, "lag_hold_max_seconds": 10.0}
    async with running(fresh_db, clock, settings=settings) as sla:
        ticket = uuid.uuid4()
        await sla.handle(assigned(clock, ticket))
        sla.svc.runtime.consumer_caught_up.clear()
        assert breached(await sla.tick(5.0)) == set()
        fired = await sla.tick(10.0)
        assert breached(fired) == {ticket}, "held at most lag_hold_max_seconds"
        assert any(isinstance(e, TicketEscalated) for e in fired)


async def test_a_consumer_far_behind_holds_breaches_even_when_caught_up_once(fresh_db: str) -> None:
    clock = FakeClock()
    settings = {"reply_grace_seconds": 0.5, "lag_hold_max_seconds": 600.0, "lag_hold_events": 100}
    async with running(fresh_db, clock, settings=settings) as sla:
        ticket = uuid.uuid4()
        await sla.handle(assigned(clock, ticket))
        sla.svc.runtime.metrics.consumer_lag_events.set(5000)  # a backlog the consumer is reading through
        assert breached(await sla.tick(10.0)) == set()
        sla.svc.runtime.metrics.consumer_lag_events.set(0)
        assert breached(await sla.tick(0.1)) == {ticket}
