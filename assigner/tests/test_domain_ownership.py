"""Slack's Take ownership as a desk rule (plain data, no IO): who may take which ticket."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from socialdesk_assigner.domain import Ticket
from socialdesk_assigner.domain.ownership import take_ownership
from socialdesk_runtime.config import Agent
from socialdesk_schemas import TicketAssigned
from socialdesk_schemas.desk import OwnershipRefused
from socialdesk_schemas.outbound import OwnershipRequested

TicketFactory = Callable[..., Ticket]
AgentOf = Callable[[str], Agent]
NOW = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def pressed(ticket: Ticket, agent_id: str) -> OwnershipRequested:
    return OwnershipRequested(
        producer="notifier",
        occurred_at=NOW,
        ticket_id=ticket.ticket_id,
        correlation_id=uuid.uuid4(),
        brand=ticket.brand,
        agent_id=agent_id,
        slack_user_id=f"U{agent_id.upper()}",
        requested_at=NOW,
    )


def test_a_lead_takes_a_colleagues_ticket_and_the_assignment_says_who_acted(
    ticket: TicketFactory, agent: AgentOf
) -> None:
    held = ticket(status="assigned", agent_id="ana")
    request = pressed(held, "lead")
    step = take_ownership(held, agent("lead"), request, now=NOW)
    assert not isinstance(step, OwnershipRefused)
    assert (step.ticket.agent_id, step.ticket.status, step.ticket.last_activity_at) == (
        "lead",
        "assigned",
        NOW,
    )
    (event,) = step.events
    assert isinstance(event, TicketAssigned)
    assert (event.agent_id, event.agent_level, event.reason, event.previous_agent_id) == (
        "lead",
        "L3",
        "claimed",
        "ana",
    )
    assert (event.causation_id, event.correlation_id) == (request.event_id, request.correlation_id)


def test_an_l1_takes_an_unowned_ticket_and_a_pending_one_stays_pending(
    ticket: TicketFactory, agent: AgentOf
) -> None:
    unowned = ticket()
    step = take_ownership(unowned, agent("ben"), pressed(unowned, "ben"), now=NOW)
    assert not isinstance(step, OwnershipRefused)
    assert (step.ticket.agent_id, step.ticket.status) == ("ben", "assigned")
    waiting = ticket(status="pending", agent_id="ana")
    step = take_ownership(waiting, agent("mgr"), pressed(waiting, "mgr"), now=NOW)
    assert not isinstance(step, OwnershipRefused)
    assert (step.ticket.agent_id, step.ticket.status) == ("mgr", "pending")


def test_the_owner_pressing_again_changes_nothing_and_emits_nothing(
    ticket: TicketFactory, agent: AgentOf
) -> None:
    held = ticket(status="assigned", agent_id="ana")
    step = take_ownership(held, agent("ana"), pressed(held, "ana"), now=NOW)
    assert not isinstance(step, OwnershipRefused)
    assert (step.ticket, step.events) == (held, ())


@pytest.mark.parametrize(
    ("state", "who", "why"),
    [
        ({"status": "resolved", "agent_id": "ana"}, "lead", "already resolved"),
        ({"status": "assigned", "agent_id": "ana"}, "ben", "owned by another agent"),
        ({"status": "assigned", "agent_id": "ana"}, "lia", "brand you do not work for"),
        ({"status": "assigned", "agent_id": "ana", "escalation_level": "L3"}, "dee", "escalated to L3"),
        ({"status": "marketing", "queue": "marketing"}, "lead", "not a CX ticket"),
    ],
)
def test_a_refusal_changes_nothing_and_says_why(
    ticket: TicketFactory, agent: AgentOf, state: dict[str, str], who: str, why: str
) -> None:
    held = ticket(**state)
    request = pressed(held, who)
    refusal = take_ownership(held, agent(who), request, now=NOW)
    assert isinstance(refusal, OwnershipRefused), refusal
    assert why in refusal.reason and refusal.reason.endswith("nothing was changed.")
    assert (refusal.agent_id, refusal.request_event_id, refusal.causation_id) == (
        who,
        request.event_id,
        request.event_id,
    )


def test_an_escalated_ticket_may_be_taken_at_its_level(ticket: TicketFactory, agent: AgentOf) -> None:
    held = ticket(status="assigned", agent_id="ana", escalation_level="L3")
    step = take_ownership(held, agent("lead"), pressed(held, "lead"), now=NOW)
    assert not isinstance(step, OwnershipRefused)
    assert step.ticket.agent_id == "lead"


def test_an_unknown_agent_or_ticket_is_refused(ticket: TicketFactory, agent: AgentOf) -> None:
    held = ticket(status="assigned", agent_id="ana")
    refusal = take_ownership(held, None, pressed(held, "gone"), now=NOW)
    assert isinstance(refusal, OwnershipRefused) and "roster" in refusal.reason
    refusal = take_ownership(None, agent("lead"), pressed(held, "lead"), now=NOW)
    assert isinstance(refusal, OwnershipRefused) and "does not know this ticket" in refusal.reason
