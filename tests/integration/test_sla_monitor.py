"""sla-monitor through its real bootstrap, on PostgreSQL, with a fake clock.

Events go in through the runtime's ``process_batch`` over the service's handler table;
the scheduler is the worker bootstrap built, running as it does in production. A tick
moves the clock and waits until the scheduler has judged the timers at the new instant
(:meth:`SlaScheduler.passed`), so "nothing fired" is a checked outcome, not a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.topology import consumed_topics, wiring_problems
from socialdesk_schemas import (
    TOPICS,
    AgentReplied,
    Event,
    SlaBreached,
    SlaWarning,
    TicketAssigned,
    TicketEscalated,
    TicketQueued,
    TicketResolved,
    TrendDetected,
)
from socialdesk_schemas.desk import TicketReopened
from socialdesk_schemas.sla import SlaClockArmed, SlaClockStopped
from socialdesk_sla_monitor.bootstrap import SPEC
from socialdesk_sla_monitor.scheduler import SlaScheduler
from tests.support import Booted, booted, envelope, priority_raised

pytestmark = pytest.mark.integration

# Bounds a wait for the scheduler, so a broken scheduler fails the test instead of hanging it.
PASS_TIMEOUT = 30.0


@dataclass
class Sla:
    svc: Booted
    clock: FakeClock

    @property
    def scheduler(self) -> SlaScheduler:
        (scheduler,) = self.svc.parts.workers
        assert isinstance(scheduler, SlaScheduler)
        return scheduler

    async def handle(self, *events: Event) -> None:
        outcome = await self.svc.feed(*events)
        assert outcome.get("processed") == len(events), outcome

    async def tick(self, seconds: float) -> list[Event]:
        """Move time on, wait for the scheduler to judge the timers then, return what it emitted."""
        now = self.clock.advance(seconds=seconds)
        await asyncio.wait_for(self.scheduler.passed(now), PASS_TIMEOUT)
        return await emitted(self.svc)

    def sample(self, name: str, **labels: str) -> float:
        return self.svc.runtime.metrics.registry.get_sample_value(name, labels) or 0.0


async def emitted(svc: Booted, *, clocks: bool = False) -> list[Event]:
    """What the service emitted since the last look; each a type its bootstrap declares.

    The desk's clock events (armed, stopped) are left out unless ``clocks``: most tests
    are about who is warned and paged.
    """
    events = await svc.emitted()
    assert {type(e) for e in events} <= set(svc.parts.emits)
    return [e for e in events if clocks or not isinstance(e, SlaClockArmed | SlaClockStopped)]


@contextlib.asynccontextmanager
async def running(
    url: str,
    clock: FakeClock,
    *,
    config: SocialdeskConfig | None = None,
    settings: Mapping[str, Any] | None = None,
) -> AsyncIterator[Sla]:
    # No grace for consumer lag unless a test asks: deadlines are judged exactly at their time.
    settings = {"reply_grace_seconds": 0.0, **(settings or {})}
    async with booted(SPEC, url, clock=clock, config=config, settings=settings) as svc:
        sla = Sla(svc, clock)
        task = asyncio.create_task(sla.scheduler.run())
        try:
            yield sla
        finally:
            sla.scheduler.stop()
            await task


@pytest.fixture
async def sla(fresh_db: str) -> AsyncIterator[Sla]:
    async with running(fresh_db, FakeClock()) as sla:
        yield sla


def assigned(
    clock: FakeClock,
    ticket_id: uuid.UUID,
    *,
    priority: str = "medium",
    level: str = "L1",
    group: str | None = None,
) -> TicketAssigned:
    return TicketAssigned.model_validate(
        {
            **envelope(clock, ticket_id),
            "group_id": group,
            "brand": "ourbus",
            "platform": "x",
            "agent_id": "ob-ana" if level == "L1" else "ob-dee",
            "agent_level": level,
            "priority": priority,
            "received_at": clock.now(),
        }
    )


def replied(clock: FakeClock, ticket_id: uuid.UUID) -> AgentReplied:
    return AgentReplied(
        **envelope(clock, ticket_id),
        reply_id=uuid.uuid4(),
        brand="ourbus",
        platform="x",
        agent_id="ob-ana",
        replied_at=clock.now(),
        is_first_response=True,
    )


def resolved(clock: FakeClock, ticket_id: uuid.UUID) -> TicketResolved:
    return TicketResolved(
        **envelope(clock, ticket_id),
        brand="ourbus",
        agent_id="ob-ana",
        root_cause="delay",
        resolved_at=clock.now(),
    )


def reopened(clock: FakeClock, ticket_id: uuid.UUID, reason: str) -> TicketReopened:
    """An OurBus X ticket reopened now by Ana (``agent``) or by the customer writing again."""
    return TicketReopened.model_validate(
        {
            **envelope(clock, ticket_id),
            "brand": "ourbus",
            "platform": "x",
            "priority": "medium",
            "agent_id": "ob-ana",
            "reopened_at": clock.now(),
            "reason": reason,
        }
    )


async def test_the_consumed_topics_follow_the_handler_table(sla: Sla) -> None:
    assert set(consumed_topics(sla.svc.parts.handlers)) == {
        TOPICS.messages,  # a customer writing resumes a paused clock and starts the next response
        TOPICS.classified,  # what a ticket is about: policies match on kind and category
        TOPICS.assignments,
        TOPICS.activity,
        TOPICS.trends,
        TOPICS.deliveries,  # Slack's Acknowledge button (EscalationAcknowledged) stops the climb
    }
    assert wiring_problems(SPEC.name, sla.svc.parts.handlers, sla.svc.parts.emits) == []


async def test_unanswered_ticket_warns_then_breaches_and_escalates_to_the_brand_lead(sla: Sla) -> None:
    ticket = uuid.uuid4()
    await sla.handle(assigned(sla.clock, ticket))  # test policy: 4 s, warning at half
    assert await sla.tick(1.9) == []
    (warning,) = await sla.tick(0.2)
    assert isinstance(warning, SlaWarning)
    assert warning.remaining_seconds == pytest.approx(1.9, abs=0.01)
    assert await sla.tick(1.8) == []
    breach, escalation = await sla.tick(0.2)
    assert isinstance(breach, SlaBreached)
    assert breach.deadline == warning.deadline
    assert isinstance(escalation, TicketEscalated)
    assert (escalation.from_level, escalation.to_level, escalation.to_agent_id) == ("L1", "L3", "ob-lead")
    assert escalation.ticket_id == ticket
    assert await sla.tick(1.0) == [], "a breach is reported once"
    assert (
        sla.sample("sla_monitor_breaches_total", brand="ourbus", metric="first_response", priority="medium")
        == 1
    )


async def test_still_unanswered_climbs_the_ladder_to_top_management_and_stops(sla: Sla) -> None:
    await sla.handle(assigned(sla.clock, uuid.uuid4()))
    await sla.tick(4.0)  # breach → L3 (no warning at the deadline itself)
    (to_l4,) = await sla.tick(4.0)
    assert isinstance(to_l4, TicketEscalated)
    assert (to_l4.from_level, to_l4.to_level, to_l4.to_agent_id) == ("L3", "L4", "ob-mgr")
    (to_tmt,) = await sla.tick(4.0)
    assert isinstance(to_tmt, TicketEscalated)
    assert to_tmt.to_level == "TMT"
    assert await sla.tick(40.0) == []


async def test_a_ticket_of_an_unknown_brand_is_dead_lettered_and_its_batch_still_armed(sla: Sla) -> None:
    # Its breach could never be escalated; refused at arming, it cannot stall the scheduler.
    good, stray, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    bad = assigned(sla.clock, stray).model_copy(update={"brand": "nobus"})
    outcome = await sla.svc.feed(assigned(sla.clock, good), bad, assigned(sla.clock, other))
    assert (outcome.get("processed"), outcome.get("deadlettered")) == (2, 1)
    (dead,) = await sla.svc.dead_letters()
    assert (dead["reason"], str(stray) in dead["payload"]) == ("handler", True)
    assert "unknown brand 'nobus'" in dead["error"]
    fired = await sla.tick(4.5)
    assert {e.ticket_id for e in fired if isinstance(e, SlaBreached)} == {good, other}


async def test_a_reply_in_time_stops_the_timer(sla: Sla) -> None:
    ticket = uuid.uuid4()
    await sla.handle(assigned(sla.clock, ticket))
    sla.clock.advance(seconds=1)
    await sla.handle(replied(sla.clock, ticket))
    assert await sla.tick(10.0) == []
    assert sla.sample("sla_monitor_timers_met_total", metric="first_response", outcome="in_time") == 1


async def test_a_reply_that_overtakes_the_assignment_still_prevents_the_breach(sla: Sla) -> None:
    # AgentReplied and TicketAssigned travel on different topics: either may come first.
    ticket = uuid.uuid4()
    await sla.handle(replied(sla.clock, ticket))
    await sla.handle(assigned(sla.clock, ticket))
    told = [
        (type(e).__name__, e.clock, getattr(e, "outcome", None))
        for e in await emitted(sla.svc, clocks=True)
        if isinstance(e, SlaClockArmed | SlaClockStopped) and e.clock == "first_response"
    ]
    # The desk still learns the clock: armed, then met (it showed no first-response clock at all).
    assert told == [("SlaClockArmed", "first_response", None), ("SlaClockStopped", "first_response", "met")]
    assert await sla.tick(30.0) == []


async def test_a_ticket_that_becomes_critical_breaches_by_the_critical_target(sla: Sla) -> None:
    ticket, other = uuid.uuid4(), uuid.uuid4()
    await sla.handle(assigned(sla.clock, ticket), assigned(sla.clock, other))  # medium: 4 s
    await sla.handle(priority_raised(sla.clock, ticket))  # critical: 2 s from the same start
    moved = [e for e in await emitted(sla.svc, clocks=True) if isinstance(e, SlaClockArmed)]
    assert {(e.ticket_id, e.due_at) for e in moved if e.clock == "first_response"} >= {
        (ticket, sla.clock.now() + timedelta(seconds=2))
    }, "the desk's queue learns the tighter due time"
    fired = await sla.tick(2.5)
    breached = [e for e in fired if isinstance(e, SlaBreached)]
    assert [(e.ticket_id, e.priority) for e in breached] == [(ticket, "critical")], "only the raised one, yet"


async def test_a_late_reply_stops_further_escalation(sla: Sla) -> None:
    ticket = uuid.uuid4()
    await sla.handle(assigned(sla.clock, ticket))
    assert len(await sla.tick(4.5)) == 2  # breach and escalation (no warning once past due)
    await sla.handle(replied(sla.clock, ticket))
    assert await sla.tick(30.0) == []
    assert sla.sample("sla_monitor_timers_met_total", metric="first_response", outcome="late") == 1


async def test_a_resolved_ticket_is_neither_warned_nor_breached(sla: Sla) -> None:
    ticket, other = uuid.uuid4(), uuid.uuid4()
    await sla.handle(assigned(sla.clock, ticket), assigned(sla.clock, other))
    sla.clock.advance(seconds=1)
    await sla.handle(resolved(sla.clock, ticket))
    fired = await sla.tick(29.0)
    assert {e.ticket_id for e in fired} == {other}, "only the unresolved ticket warns and breaches"


async def test_resolving_a_breached_ticket_stops_its_escalation(sla: Sla) -> None:
    ticket = uuid.uuid4()
    await sla.handle(assigned(sla.clock, ticket))
    assert len(await sla.tick(4.5)) == 2  # breach and escalation to L3
    await sla.handle(resolved(sla.clock, ticket))
    assert await sla.tick(40.0) == [], "no climb to L4 after the resolution"


async def test_priority_policy_and_queued_tickets(sla: Sla) -> None:
    critical = uuid.uuid4()
    await sla.handle(assigned(sla.clock, critical, priority="critical"))  # 2 s policy
    queued = TicketQueued(
        **envelope(sla.clock),
        brand="rally",
        platform="instagram",
        queue="cx",
        priority="medium",
        received_at=sla.clock.now(),
        reason="nobody online",
    )
    await sla.handle(queued)
    fired = await sla.tick(2.0)
    kinds = sorted((type(e).__name__, str(e.ticket_id)) for e in fired)
    assert ("SlaBreached", str(critical)) in kinds
    assert ("SlaWarning", str(queued.ticket_id)) in kinds
    fired = await sla.tick(2.0)
    escalation = next(e for e in fired if isinstance(e, TicketEscalated))
    assert escalation.ticket_id == queued.ticket_id
    assert (escalation.from_level, escalation.to_level, escalation.to_agent_id) == (None, "L3", "ra-lead")


async def test_timers_survive_a_restart_of_the_service(fresh_db: str) -> None:
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock) as svc:
        await svc.feed(assigned(clock, uuid.uuid4()))
    clock.advance(seconds=5)
    # A new process on the same database finds the timer.
    async with booted(SPEC, fresh_db, clock=clock, settings={"reply_grace_seconds": 0.0}) as again:
        (scheduler,) = again.parts.workers
        assert isinstance(scheduler, SlaScheduler)
        next_due = await scheduler.fire_due()
        assert [type(e).__name__ for e in await emitted(again)] == ["SlaBreached", "TicketEscalated"]
        assert next_due == clock.now() + timedelta(seconds=4), "the next rung is planned"


async def test_a_hot_topic_tightens_its_live_timers_and_its_future_tickets(sla: Sla) -> None:
    # Test policy: 4 s first response, hot topics get the default factor 0.5 → 2 s.
    early, other = uuid.uuid4(), uuid.uuid4()
    await sla.handle(assigned(sla.clock, early, group="g-bridge"))
    await sla.handle(assigned(sla.clock, other, group="g-other"))
    sla.clock.advance(seconds=0.5)
    trend = TrendDetected(
        **envelope(sla.clock), brand="ourbus", group_id="g-bridge", volume=6, window_seconds=600
    )
    await sla.handle(trend)
    late = uuid.uuid4()
    await sla.handle(assigned(sla.clock, late, group="g-bridge"))  # joins the hot group after the trend
    fired = await sla.tick(1.6)  # 2.1 s after the first two were armed
    breached = {e.ticket_id for e in fired if isinstance(e, SlaBreached)}
    assert breached == {early}, "the hot group's older ticket is due at 2 s, the other group's at 4 s"
    fired = await sla.tick(0.5)  # the late ticket's tightened 2 s have passed
    assert {e.ticket_id for e in fired if isinstance(e, SlaBreached)} == {late}
    assert sla.sample("sla_monitor_hot_topic_tightened_total") == 2, (
        "its first-response and resolution clocks"
    )
