"""Slack's Take ownership (issue 11): the person who pressed it becomes the ticket's owner,
by the same rules as the desk's ``/assign`` to oneself.

- The agent must work for the ticket's brand (TMT: every brand) and may act on it as at
  the desk: L1/L2 on their own tickets and the unowned queue, L3 and above on every ticket
  of their brands. An escalated ticket also needs the level it was escalated to.
- Only an open, assigned or pending customer-service ticket changes hands.
- Already the agent's ticket (a second press, a redelivered request): nothing changes and
  nothing is emitted.

Every refusal is an :class:`~socialdesk_schemas.desk.OwnershipRefused` with a reason meant
for the person who pressed the button; nothing else changes.

Usage::

    step = take_ownership(ticket, agent, request, now=now)   # Step: events to emit
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from socialdesk_assigner.domain import facts
from socialdesk_assigner.domain.errors import DomainError
from socialdesk_assigner.domain.permissions import check_may_act, rank
from socialdesk_assigner.domain.ticket import Step, Ticket, _require_workable
from socialdesk_runtime.config import Agent
from socialdesk_schemas.desk import OwnershipRefused
from socialdesk_schemas.outbound import OwnershipRequested

__all__ = ["refused", "take_ownership"]


def take_ownership(
    ticket: Ticket | None, agent: Agent | None, request: OwnershipRequested, *, now: datetime
) -> Step | OwnershipRefused:
    """The ticket after ``agent`` pressed Take ownership, or why it did not change.

    The ``TicketAssigned`` names the agent who acted as the new owner (``reason="claimed"``:
    they took it themselves), the owner before (``previous_agent_id``) and, as its cause,
    the request (``causation_id``)."""
    if agent is None:
        return refused(request, f"{request.agent_id} is not on the desk's roster; nothing was changed.", now)
    if ticket is None:
        return refused(request, "The desk does not know this ticket; nothing was changed.", now)
    if ticket.agent_id == agent.id and ticket.status in ("assigned", "pending"):
        return Step(ticket, (), "take_ownership")
    try:
        if ticket.status == "resolved":
            raise DomainError("This ticket is already resolved; reopen it at the desk first.")
        _require_workable(ticket)
        if ticket.escalation_level is not None and rank(agent.level) < rank(ticket.escalation_level):
            raise DomainError(
                f"This ticket was escalated to {ticket.escalation_level}; "
                f"taking it needs that level or above (you are {agent.level})."
            )
        check_may_act(agent, ticket)
    except DomainError as exc:
        return refused(request, f"{exc.reason.rstrip('.')}; nothing was changed.", now)
    moved = replace(
        ticket,
        status="assigned" if ticket.status == "open" else ticket.status,
        agent_id=agent.id,
        last_activity_at=now,
    )
    event = facts.handed(ticket, moved, agent, now, reason="claimed", cause=request)
    return Step(moved, (event,), "take_ownership")


def refused(request: OwnershipRequested, reason: str, now: datetime) -> OwnershipRefused:
    return OwnershipRefused(
        producer=facts.PRODUCER,
        occurred_at=now,
        ticket_id=request.ticket_id,
        correlation_id=request.correlation_id,
        causation_id=request.event_id,
        brand=request.brand,
        agent_id=request.agent_id,
        slack_user_id=request.slack_user_id,
        request_event_id=request.event_id,
        reason=reason[:500],
        refused_at=now,
    )
