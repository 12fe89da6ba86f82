"""Slack's Acknowledge button reaches sla-monitor (issue 11): the climb stops where it is.

Through sla-monitor's real bootstrap on PostgreSQL, with its fake clock (helpers of
test_sla_monitor). "No further rung" is the scheduler having judged the later instant.
"""

from __future__ import annotations

import uuid

from socialdesk_schemas import TicketEscalated
from socialdesk_schemas.outbound import EscalationAcknowledged
from tests.integration.test_sla_monitor import Sla, assigned, sla
from tests.support import envelope

__all__ = ["sla"]


def acknowledged(sla: Sla, ticket_id: uuid.UUID) -> EscalationAcknowledged:
    return EscalationAcknowledged(
        **envelope(sla.clock, ticket_id),
        brand="ourbus",
        agent_id="ob-dee",
        slack_user_id="U0OBDEE",
        acknowledged_at=sla.clock.now(),
    )


async def test_acknowledge_stops_the_climb_of_that_ticket_only(sla: Sla) -> None:
    acked, other = uuid.uuid4(), uuid.uuid4()
    await sla.handle(assigned(sla.clock, acked))
    await sla.handle(assigned(sla.clock, other))
    assert len(await sla.tick(4.5)) == 4  # a breach and an escalation to L3 for each
    await sla.handle(acknowledged(sla, acked))
    fired = await sla.tick(4.0)
    assert [(type(e), e.ticket_id) for e in fired] == [(TicketEscalated, other)], (
        "only the other climbs to L4"
    )
    assert all(e.ticket_id == other for e in await sla.tick(40.0))


async def test_acknowledge_before_any_breach_changes_nothing(sla: Sla) -> None:
    ticket = uuid.uuid4()
    await sla.handle(assigned(sla.clock, ticket))
    await sla.handle(acknowledged(sla, ticket))
    assert len(await sla.tick(4.5)) == 2, "a clock not yet breached still breaches and escalates"
