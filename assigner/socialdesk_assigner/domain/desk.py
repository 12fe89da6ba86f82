"""Desk actions beyond reply and resolve (issue 9): pending on the customer, reopen, hand-off,
follow-up promises, internal notes, escalation up the ladder, replies sent after approval.

Same shape as :mod:`~socialdesk_assigner.domain.ticket`: each takes the ticket and what
happened, checks the rules, and returns a :class:`Step` (the new ticket, what to emit).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Literal

from socialdesk_assigner.domain import facts
from socialdesk_assigner.domain.errors import Forbidden, InvalidTransition
from socialdesk_assigner.domain.permissions import check_may_act, may_see, rank
from socialdesk_assigner.domain.ticket import (
    AssignReason,
    Step,
    Ticket,
    _require_workable,
    claim,
    require_words,
)
from socialdesk_runtime.config import Agent
from socialdesk_schemas import AgentReplied, Event, TicketEscalated, TicketQueued
from socialdesk_schemas.desk import FollowUpPromised, InternalNoteAdded, TicketPending

__all__ = [
    "add_note",
    "dispatch",
    "escalate",
    "hand_off",
    "pend",
    "promise_follow_up",
    "release",
    "reopen_by_agent",
    "send_reply",
]

EscalationPolicy = Literal["reassign", "watch"]


def pend(ticket: Ticket, agent: Agent, *, reason: str, now: datetime) -> Step:
    """Wait on the customer: the resolution clock pauses until they write."""
    check_may_act(agent, ticket)
    _require_workable(ticket)
    if ticket.status == "pending":
        raise InvalidTransition("ticket is already pending on the customer")
    events: list[Event] = []
    if ticket.agent_id is None:
        claimed = claim(ticket, agent, now=now)
        ticket, events = claimed.ticket, list(claimed.events)
    ticket = replace(ticket, status="pending", last_activity_at=now)
    event = TicketPending(
        **facts.envelope(ticket, now),
        brand=ticket.brand,
        platform=ticket.platform,
        agent_id=agent.id,
        pending_at=now,
        reason=reason,
    )
    return Step(ticket, (*events, event), "pending")


def reopen_by_agent(ticket: Ticket, agent: Agent, *, now: datetime) -> Step:
    """An agent opens a resolved (or pending) ticket again and owns it; its clocks re-arm."""
    check_may_act(agent, ticket)
    if ticket.queue != "cx" or ticket.status not in ("resolved", "pending"):
        raise InvalidTransition(f"ticket is {ticket.status}; only a resolved or pending ticket reopens")
    previous = ticket.agent_id
    reopened = replace(
        ticket,
        status="assigned",
        agent_id=agent.id,
        resolved_at=None,
        root_cause=None,
        last_activity_at=now,
    )
    envelope = facts.envelope(reopened, now)
    events: list[Event] = [facts.reopened(reopened, envelope, "agent")]
    if previous != agent.id:
        events.append(
            facts.assigned(
                reopened,
                envelope,
                agent,
                reason="reassigned",
                received_at=ticket.received_at,
                group_id=ticket.group_id,
                previous_agent_id=previous,
            )
        )
    return Step(reopened, tuple(events), "reopen")


def hand_off(ticket: Ticket, actor: Agent, to: Agent, *, now: datetime, to_presence: str = "online") -> Step:
    """Give the ticket to ``to`` (the hand-off note travels as an internal note).

    Never to someone offline (or on leave): nobody would answer it, and the offline policy
    would hand it straight back on."""
    check_may_act(actor, ticket)
    _require_workable(ticket)
    if to.level != "TMT" and ticket.brand not in to.brands:
        raise Forbidden(f"{to.name} does not work for brand {ticket.brand!r}")
    if to_presence == "offline" and to.id != actor.id:
        raise InvalidTransition(f"{to.name} is offline: hand it to someone at work, or leave it in the queue")
    if ticket.agent_id == to.id:
        raise InvalidTransition(f"ticket is already {to.name}'s")
    if actor.id != to.id and rank(actor.level) < rank("L3") and ticket.agent_id is None:
        # a working agent hands on their own tickets; the unowned queue they claim
        raise Forbidden("claim the ticket first; only a lead assigns unowned tickets to others")
    moved = replace(
        ticket,
        status="assigned" if ticket.status == "open" else ticket.status,
        agent_id=to.id,
        last_activity_at=now,
    )
    event = facts.handed(ticket, moved, to, now, reason="reassigned")
    return Step(moved, (event,), "assign")


def promise_follow_up(
    ticket: Ticket, agent: Agent, *, follow_up_id: uuid.UUID, due_at: datetime, note: str, now: datetime
) -> Step:
    """Promise the customer a follow-up by ``due_at`` (seed 001): a timer."""
    check_may_act(agent, ticket)
    _require_workable(ticket)
    if due_at <= now:
        raise InvalidTransition("a follow-up is due in the future")
    event = FollowUpPromised(
        **facts.envelope(ticket, now),
        follow_up_id=follow_up_id,
        brand=ticket.brand,
        platform=ticket.platform,
        agent_id=agent.id,
        due_at=due_at,
        note=note,
    )
    return Step(replace(ticket, last_activity_at=now), (event,), "follow_up_promised")


def add_note(ticket: Ticket, agent: Agent, *, note_id: uuid.UUID, text: str, now: datetime) -> Step:
    """An internal note: anyone who may see the ticket may write one; never sent."""
    if not may_see(agent, ticket):
        raise Forbidden("this ticket belongs to a brand you do not work for")
    require_words(text, "the note")
    event = InternalNoteAdded(
        **facts.envelope(ticket, now),
        note_id=note_id,
        brand=ticket.brand,
        agent_id=agent.id,
        text=text,
        added_at=now,
    )
    return Step(ticket, (event,), "note")


def escalate(
    ticket: Ticket, escalated: TicketEscalated, to: Agent | None, *, policy: EscalationPolicy, now: datetime
) -> Step:
    """The SLA ladder moved the ticket up: hand it to the next rung's agent, or add them as a
    watcher, per policy; either way the ticket shows in that level's queue as escalated."""
    ticket = replace(ticket, escalation_level=escalated.to_level)
    if to is None or ticket.status not in ("open", "assigned", "pending"):
        return Step(ticket, (), "escalate")
    if policy == "watch" or ticket.agent_id == to.id:
        watchers = ticket.watchers if to.id in ticket.watchers else (*ticket.watchers, to.id)
        return Step(replace(ticket, watchers=watchers), (), "escalate")
    moved = replace(ticket, status="assigned", agent_id=to.id)
    event = facts.handed(ticket, moved, to, now, reason="escalation", cause=escalated)
    return Step(moved, (event,), "escalate")


def send_reply(
    ticket: Ticket,
    *,
    author_id: str,
    reply_id: uuid.UUID,
    text: str,
    now: datetime,
    template_key: str | None = None,
) -> Step:
    """The events of a reply going out (an approved one, or one sent straight away)."""
    first = ticket.first_response_at is None
    ticket = replace(
        ticket, first_response_at=now if first else ticket.first_response_at, last_activity_at=now
    )
    envelope = facts.envelope(ticket, now)
    replied = AgentReplied(
        **envelope,
        reply_id=reply_id,
        brand=ticket.brand,
        platform=ticket.platform,
        agent_id=author_id,
        replied_at=now,
        is_first_response=first,
    )
    request = facts.reply_requested(
        ticket,
        envelope,
        reply_id=reply_id,
        text=text,
        origin="agent",
        agent_id=author_id,
        template_key=template_key,
    )
    return Step(ticket, (replied, request), "reply")


def dispatch(ticket: Ticket, agent: Agent, *, reason: AssignReason, now: datetime) -> Step:
    """Hand a ticket waiting in the queue (or taken from someone) to ``agent``: the queue
    drains when capacity or presence frees up, and idle or offline owners' tickets move on."""
    if ticket.queue != "cx" or ticket.status not in ("open", "assigned", "pending"):
        raise InvalidTransition(f"ticket is {ticket.status}, nothing to hand out")
    moved = replace(
        ticket,
        status="assigned" if ticket.status == "open" else ticket.status,
        agent_id=agent.id,
        last_activity_at=now,
    )
    event = facts.handed(ticket, moved, agent, now, reason=reason)
    return Step(moved, (event,), "dispatch")


def release(ticket: Ticket, *, reason: str, now: datetime) -> Step:
    """Put an owned ticket back in its brand's queue (its owner left and nobody has room)."""
    if ticket.queue != "cx" or ticket.status not in ("assigned", "pending"):
        raise InvalidTransition(f"ticket is {ticket.status}, nothing to release")
    back = replace(ticket, status="open", agent_id=None, last_activity_at=now)
    event = TicketQueued(
        **facts.envelope(back, now),
        brand=back.brand,
        platform=back.platform,
        queue="cx",
        priority=back.priority,
        received_at=back.received_at,
        reason=reason,
        group_id=back.group_id,
    )
    return Step(back, (event,), "release")
