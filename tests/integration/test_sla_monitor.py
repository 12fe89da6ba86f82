"""sla-monitor on real PostgreSQL with a fake clock: timers arm, warn, breach, escalate, stop."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_schemas import (
    AgentReplied,
    SlaBreached,
    SlaWarning,
    TicketAssigned,
    TicketEscalated,
    TicketQueued,
    TrendDetected,
)
from socialdesk_sla_monitor.bootstrap import SPEC
from socialdesk_sla_monitor.metrics import SlaMetrics
from socialdesk_sla_monitor.timers import SlaScheduler, arm_first_response, stop_on_reply, tighten_hot_topic
from tests.support import clear_outbox, config_for_tests, envelope, outbox_events, service_store

pytestmark = pytest.mark.integration


@dataclass
class Sla:
    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory
    clock: FakeClock
    scheduler: SlaScheduler
    metrics: SlaMetrics

    async def handle(self, event: object) -> None:
        config = config_for_tests()
        async with self.uow_factory() as uow:
            if isinstance(event, TicketAssigned | TicketQueued):
                await arm_first_response(event, uow, config=config, metrics=self.metrics)
            elif isinstance(event, AgentReplied):
                await stop_on_reply(event, uow, metrics=self.metrics)
            elif isinstance(event, TrendDetected):
                await tighten_hot_topic(event, uow, config=config, metrics=self.metrics)
            await uow.commit()

    async def tick(self, seconds: float) -> list[object]:
        """Move time on, fire what is due, and return (and clear) what was emitted."""
        self.clock.advance(seconds=seconds)
        await self.scheduler.fire_due()
        events = await outbox_events(self.engine)
        await clear_outbox(self.engine)
        return list(events)


@pytest.fixture
async def sla(fresh_db: str) -> AsyncIterator[Sla]:
    clock = FakeClock()
    metrics = SlaMetrics.create(CollectorRegistry())
    async with service_store(fresh_db, SPEC) as (engine, uow_factory):
        scheduler = SlaScheduler(
            uow_factory=uow_factory, config=config_for_tests(), clock=clock, metrics=metrics
        )
        yield Sla(engine, uow_factory, clock, scheduler, metrics)


def assigned(
    clock: FakeClock,
    ticket_id: uuid.UUID,
    *,
    priority: str = "medium",
    level: str = "L1",
    group: str | None = None,
) -> TicketAssigned:
    return TicketAssigned(
        **envelope(clock, ticket_id),
        group_id=group,
        brand="ourbus",
        platform="x",
        agent_id="ob-ana" if level == "L1" else "ob-dee",
        agent_level=level,
        priority=priority,
        received_at=clock.now(),
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


async def test_still_unanswered_climbs_the_ladder_to_top_management_and_stops(sla: Sla) -> None:
    await sla.handle(assigned(sla.clock, uuid.uuid4()))
    await sla.tick(4.0)  # warning + breach → L3
    (to_l4,) = await sla.tick(4.0)
    assert isinstance(to_l4, TicketEscalated)
    assert (to_l4.from_level, to_l4.to_level, to_l4.to_agent_id) == ("L3", "L4", "ob-mgr")
    (to_tmt,) = await sla.tick(4.0)
    assert isinstance(to_tmt, TicketEscalated)
    assert to_tmt.to_level == "TMT"
    assert await sla.tick(40.0) == []


async def test_a_reply_in_time_stops_the_timer(sla: Sla) -> None:
    ticket = uuid.uuid4()
    await sla.handle(assigned(sla.clock, ticket))
    sla.clock.advance(seconds=1)
    await sla.handle(replied(sla.clock, ticket))
    assert await sla.tick(10.0) == []
    assert sla.metrics.met.labels(metric="first_response", outcome="in_time")._value.get() == 1


async def test_a_reply_that_overtakes_the_assignment_still_prevents_the_breach(sla: Sla) -> None:
    # AgentReplied and TicketAssigned travel on different topics: either may come first.
    ticket = uuid.uuid4()
    await sla.handle(replied(sla.clock, ticket))
    await sla.handle(assigned(sla.clock, ticket))
    assert await sla.tick(30.0) == []


async def test_a_late_reply_stops_further_escalation(sla: Sla) -> None:
    ticket = uuid.uuid4()
    await sla.handle(assigned(sla.clock, ticket))
    assert len(await sla.tick(4.5)) == 2  # breach and escalation (no warning once past due)
    await sla.handle(replied(sla.clock, ticket))
    assert await sla.tick(30.0) == []
    assert sla.metrics.met.labels(metric="first_response", outcome="late")._value.get() == 1


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


async def test_timers_survive_a_restart_of_the_scheduler(sla: Sla) -> None:
    ticket = uuid.uuid4()
    await sla.handle(assigned(sla.clock, ticket))
    # A new scheduler (a restarted process) on the same database finds the timer.
    fresh = SlaScheduler(
        uow_factory=sla.uow_factory,
        config=config_for_tests(),
        clock=sla.clock,
        metrics=SlaMetrics.create(CollectorRegistry()),
    )
    sla.clock.advance(seconds=5)
    next_due = await fresh.fire_due()
    events = await outbox_events(sla.engine)
    assert [type(e).__name__ for e in events] == ["SlaBreached", "TicketEscalated"]
    assert next_due == sla.clock.now() + timedelta(seconds=4), "the next rung is planned"


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
    assert sla.metrics.hot_topic_tightened._value.get() == 1
