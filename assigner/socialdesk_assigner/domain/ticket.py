"""A ticket's life as a state machine on plain data.

States (``Ticket.status``):

- ``open``: a CX ticket with no owner, waiting in its brand's queue;
- ``assigned``: a CX ticket an agent owns;
- ``pending``: owned, waiting on the customer (a message from them makes it ``assigned``);
- ``marketing``: handed to the marketing team (no CX SLA);
- ``dismissed``: noise, kept but not worked;
- ``resolved``: closed with a root cause (by an agent or a saved auto-reply).

Every transition is a function taking the ticket (and what happened) and returning a
:class:`Step`: the new ticket and the events to emit. A transition the rules refuse
raises :class:`~socialdesk_assigner.domain.errors.InvalidTransition` or
:class:`~socialdesk_assigner.domain.errors.Forbidden` with the reason. Time comes in as
``now``; nothing here reads a clock or a database.

A new desk action (a note, a reassignment, pending on the customer) is a new function
here: guard the state, check :func:`~socialdesk_assigner.domain.permissions.check_may_act`,
return the new ticket with its events (built in :mod:`~socialdesk_assigner.domain.facts`).

Usage::

    step = reply(ticket, agent, reply_id=rid, text="On it!", now=now)
    await store.save([step.ticket])
    for event in step.events:
        uow.emit(event)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from socialdesk_assigner.domain import facts
from socialdesk_assigner.domain.errors import AlreadyResolved, InvalidTransition, Unprocessable
from socialdesk_assigner.domain.permissions import check_may_act
from socialdesk_runtime.config import Agent
from socialdesk_schemas import (
    AgentReplied,
    Event,
    Kind,
    Level,
    MessageClassified,
    Platform,
    Priority,
    Queue,
    TicketDismissed,
    TicketQueued,
    TicketRoutedToMarketing,
)

__all__ = [
    "AUTO_REPLY_AGENT",
    "Status",
    "Step",
    "Ticket",
    "assign",
    "auto_answer",
    "claim",
    "dismiss",
    "follow_up",
    "open_ticket",
    "queue",
    "reopen",
    "reply",
    "reply_id_for",
    "require_words",
    "resolve",
    "root_cause_of",
    "route_to_marketing",
]

#: Who resolved a ticket a saved reply answered.
AUTO_REPLY_AGENT = "auto-reply"
_REPLY_NS = uuid.UUID("5b0e3d0c-3f8e-4bb5-9d53-4e1f0c1b2a77")

Status = Literal["open", "assigned", "pending", "marketing", "dismissed", "resolved"]
AssignReason = Literal["round_robin", "same_customer", "escalation", "reassigned", "claimed"]


@dataclass(frozen=True, slots=True)
class Ticket:
    """A ticket's work state; the fields are the columns of the ``tickets`` table."""

    ticket_id: uuid.UUID
    brand: str
    platform: Platform
    kind: Kind
    queue: Queue
    category: str
    priority: Priority
    status: Status
    agent_id: str | None
    customer_id: uuid.UUID
    correlation_id: uuid.UUID
    recipient_platform_user_id: str
    last_platform_message_id: str
    received_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    root_cause: str | None
    message_count: int
    group_id: str | None = None
    language: str = "en"
    escalation_level: Level | None = None
    watchers: tuple[str, ...] = ()
    last_activity_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one transition: the ticket after it, what to emit, and its name."""

    ticket: Ticket
    events: tuple[Event, ...]
    transition: str


# --- a message arrives --------------------------------------------------------------------


def open_ticket(message: MessageClassified) -> Ticket:
    """The ticket a first message opens: unowned and not yet routed."""
    return Ticket(
        ticket_id=message.ticket_id,
        brand=message.brand,
        platform=message.platform,
        kind=message.kind,
        queue=message.queue,
        category=message.category,
        priority=message.priority,
        status="open",
        agent_id=None,
        customer_id=message.customer_id,
        correlation_id=message.correlation_id,
        recipient_platform_user_id=message.author_platform_user_id,
        last_platform_message_id=message.platform_message_id,
        received_at=message.received_at,
        first_response_at=None,
        resolved_at=None,
        root_cause=None,
        message_count=1,
        group_id=message.group_id,
        language=message.language,
        last_activity_at=message.received_at,
    )


def follow_up(ticket: Ticket, message: MessageClassified, *, now: datetime | None = None) -> Step:
    """Another message on a ticket still being worked: it keeps its owner. A ticket pending
    on the customer is theirs to answer again (``TicketReopened``, its clocks re-armed)."""
    if ticket.status == "resolved":
        raise InvalidTransition("a message on a resolved ticket reopens it")
    changed = replace(
        ticket,
        message_count=ticket.message_count + 1,
        last_platform_message_id=message.platform_message_id,
        group_id=ticket.group_id or message.group_id,
        last_activity_at=message.received_at,
    )
    if ticket.status != "pending":
        return Step(changed, (), "follow_up")
    changed = replace(changed, status="assigned")
    event = facts.reopened(
        changed, facts.envelope(changed, now or message.received_at, message), "customer_wrote"
    )
    return Step(changed, (event,), "follow_up")


def reopen(ticket: Ticket, message: MessageClassified) -> Ticket:
    """The customer wrote again on a resolved ticket (an auto-reply did not settle it, or the
    problem came back): it opens again as the new message classifies it, to be routed."""
    if ticket.status != "resolved":
        raise InvalidTransition(f"ticket is {ticket.status}, only a resolved ticket reopens")
    return replace(
        ticket,
        queue=message.queue,
        category=message.category,
        priority=message.priority,
        status="open",
        agent_id=None,
        last_platform_message_id=message.platform_message_id,
        first_response_at=None,
        resolved_at=None,
        root_cause=None,
        message_count=ticket.message_count + 1,
        group_id=message.group_id,
        language=message.language,
        escalation_level=None,
        last_activity_at=message.received_at,
    )


# --- routing an opened ticket -------------------------------------------------------------


def route_to_marketing(ticket: Ticket, message: MessageClassified, *, now: datetime) -> Step:
    _require_unrouted(ticket)
    event = TicketRoutedToMarketing(
        **facts.envelope(ticket, now, message),
        brand=ticket.brand,
        platform=ticket.platform,
        category=ticket.category,
        priority=ticket.priority,
    )
    return Step(replace(ticket, status="marketing"), (event,), "route_to_marketing")


def dismiss(ticket: Ticket, message: MessageClassified, *, now: datetime) -> Step:
    _require_unrouted(ticket)
    event = TicketDismissed(
        **facts.envelope(ticket, now, message),
        brand=ticket.brand,
        platform=ticket.platform,
        category=ticket.category,
        reason="; ".join(message.reasons)[:500] or "classified as noise",
    )
    return Step(replace(ticket, status="dismissed"), (event,), "dismiss")


def auto_answer(ticket: Ticket, message: MessageClassified, *, text: str, now: datetime) -> Step:
    """Answer a plain question with its saved reply and resolve the ticket.

    The classifier proposes a template only for a plain question a saved answer fully
    resolves (never a complaint, anger, safety or legal).
    """
    _require_unrouted(ticket)
    envelope = facts.envelope(ticket, now, message)
    root_cause = f"auto_reply:{message.auto_reply}"
    request = facts.reply_requested(
        ticket,
        envelope,
        reply_id=uuid.uuid5(message.message_id, "auto-reply"),
        text=text,
        origin="auto_reply",
        template_key=message.auto_reply,
    )
    resolved = facts.resolved(ticket, envelope, agent_id=AUTO_REPLY_AGENT, root_cause=root_cause)
    answered = replace(
        ticket, status="resolved", first_response_at=now, resolved_at=now, root_cause=root_cause
    )
    return Step(answered, (request, resolved), "auto_answer")


def assign(
    ticket: Ticket, agent: Agent, *, reason: AssignReason, message: MessageClassified, now: datetime
) -> Step:
    """Give a routed CX ticket its owner."""
    _require_unrouted(ticket)
    envelope = facts.envelope(ticket, now, message)
    event = facts.assigned(
        ticket, envelope, agent, reason=reason, received_at=message.received_at, group_id=message.group_id
    )
    return Step(replace(ticket, status="assigned", agent_id=agent.id), (event,), "assign")


def queue(ticket: Ticket, message: MessageClassified, *, reason: str, now: datetime) -> Step:
    """Leave a CX ticket unowned in its brand's queue (nobody eligible has room)."""
    _require_unrouted(ticket)
    event = TicketQueued(
        **facts.envelope(ticket, now, message),
        brand=ticket.brand,
        platform=ticket.platform,
        queue="cx",
        priority=ticket.priority,
        received_at=message.received_at,
        reason=reason,
        group_id=message.group_id,
    )
    return Step(ticket, (event,), "queue")


# --- agents at the desk -------------------------------------------------------------------


def claim(ticket: Ticket, agent: Agent, *, now: datetime) -> Step:
    """An agent takes an unowned CX ticket from the queue."""
    check_may_act(agent, ticket)
    _require_workable(ticket)
    if ticket.agent_id is not None:
        raise InvalidTransition("ticket already has an owner")
    event = facts.assigned(
        ticket, facts.envelope(ticket, now), agent, reason="claimed", received_at=ticket.received_at
    )
    return Step(replace(ticket, status="assigned", agent_id=agent.id), (event,), "claim")


def require_words(text: str, what: str, *, at_least: int = 1) -> str:
    """``text`` stripped, refused when it has fewer than ``at_least`` visible characters: a
    reply of spaces would reach the customer as nothing and still count as an answer."""
    words = text.strip()
    if len(words) < at_least:
        raise Unprocessable(
            f"{what} is blank" if not words else f"{what} needs at least {at_least} characters"
        )
    return words


def root_cause_of(cause: str, category: str | None) -> str:
    """The root cause as recorded: what went wrong and what fixed it, under its category."""
    words = require_words(cause, "the root cause", at_least=3)
    return words if category is None else f"{category}: {words}"


def reply(ticket: Ticket, agent: Agent, *, reply_id: uuid.UUID, text: str, now: datetime) -> Step:
    """An agent answers the customer; answering an unowned ticket claims it."""
    check_may_act(agent, ticket)
    _require_workable(ticket)
    require_words(text, "the reply")
    events: list[Event] = []
    if ticket.agent_id is None:
        claimed = claim(ticket, agent, now=now)
        ticket = claimed.ticket
        events.extend(claimed.events)
    first = ticket.first_response_at is None
    if first:
        ticket = replace(ticket, first_response_at=now)
    ticket = replace(ticket, last_activity_at=now)
    envelope = facts.envelope(ticket, now)
    replied = AgentReplied(
        **envelope,
        reply_id=reply_id,
        brand=ticket.brand,
        platform=ticket.platform,
        agent_id=agent.id,
        replied_at=now,
        is_first_response=first,
    )
    request = facts.reply_requested(
        ticket, envelope, reply_id=reply_id, text=text, origin="agent", agent_id=agent.id
    )
    return Step(ticket, (*events, replied, request), "reply")


def resolve(ticket: Ticket, agent: Agent, *, root_cause: str, now: datetime) -> Step:
    """Close a ticket with its root cause (seed 000: every concern closed with an RCA)."""
    check_may_act(agent, ticket)
    if ticket.status == "resolved":
        raise AlreadyResolved("ticket is already resolved")
    event = facts.resolved(ticket, facts.envelope(ticket, now), agent_id=agent.id, root_cause=root_cause)
    closed = replace(ticket, status="resolved", resolved_at=now, root_cause=root_cause)
    return Step(closed, (event,), "resolve")


def reply_id_for(ticket_id: uuid.UUID, agent_id: str, idempotency_key: str) -> uuid.UUID:
    """A retried request with the same Idempotency-Key is the same reply, never a second one."""
    return uuid.uuid5(_REPLY_NS, f"{ticket_id}:{agent_id}:{idempotency_key}")


# --- guards and envelopes -----------------------------------------------------------------


def _require_unrouted(ticket: Ticket) -> None:
    if ticket.status != "open" or ticket.agent_id is not None:
        raise InvalidTransition(f"ticket is {ticket.status}, already routed")


def _require_workable(ticket: Ticket) -> None:
    if ticket.queue != "cx" or ticket.status not in ("open", "assigned", "pending"):
        what = "not a CX ticket to answer" if ticket.status != "resolved" else "reopen it first"
        raise InvalidTransition(f"ticket is {ticket.status}, {what}")
