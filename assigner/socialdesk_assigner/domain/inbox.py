"""Replies a person at the brand typed outside the desk: in the platform's own inbox (Meta
Business Suite, the Messenger or Instagram inbox, X, the WhatsApp Business app) or as a
public comment under the customer's (decision 0305).

Two rules. Whether one of our account's messages coming back through a webhook is the echo
of a reply the desk sent (:func:`echo_of`): by the platform's id of what we sent, whatever
the delay, else by the same words within a bounded window. And what a reply typed in the
inbox does to its ticket (:func:`answered_in_inbox`): for the SLA clocks, what a desk reply
does (``AgentReplied``, its ``agent_id`` naming the inbox, never a person); on a resolved
ticket, nothing.

Usage::

    echoed = echo_of(our_replies, platform_message_id=pmid, text=text, at=at)
    if echoed is None:
        step = answered_in_inbox(ticket, platform="facebook", platform_message_id=pmid, at=at, now=now)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from socialdesk_assigner.domain import facts
from socialdesk_assigner.domain.replies import is_echo_of
from socialdesk_assigner.domain.ticket import Step, Ticket
from socialdesk_schemas import AgentReplied, Event, Platform

__all__ = [
    "ECHO_SKEW",
    "ECHO_WINDOW",
    "INBOX_AGENT_PREFIX",
    "IN_FLIGHT_WINDOW",
    "InboxReply",
    "OurReply",
    "answered_before_routing",
    "answered_in_inbox",
    "counted",
    "echo_of",
    "inbox_agent",
    "inbox_reply_id",
]

#: ``AgentReplied.agent_id`` of a reply typed in a platform's inbox: ``inbox:facebook``. A
#: roster agent's id never holds a colon, so it names no person, only where it was typed.
INBOX_AGENT_PREFIX = "inbox:"
#: How long after a reply of ours was sent a message with its words (and no id we know)
#: is taken for its echo. Measured from the send the notifier reported.
ECHO_WINDOW = timedelta(hours=1)
#: A reply asked for (or approved) and not yet reported sent or failed is still on its way:
#: its echo may come before the report. Bounded by the longest the notifier keeps trying
#: (``give_up_after_hours`` at most 14 days), after which it reports the reply failed.
IN_FLIGHT_WINDOW = timedelta(days=14)
#: Clocks differ (the platform's, the desk's): a message typed this long before the desk
#: reply with its words was asked for may still be its echo; one typed earlier cannot be
#: (a person typed it, and its webhook came late).
ECHO_SKEW = timedelta(seconds=60)
_SENT = ("sent", "delivered", "read")
_IN_FLIGHT = ("requested",)
_WORKABLE = ("open", "assigned", "pending")
_INBOX_REPLY_NS = uuid.UUID("c1f4a2de-6b0e-4f43-9a51-0d7e2b8c3f15")


@dataclass(frozen=True, slots=True)
class OurReply:
    """A reply the desk asked the notifier to send, as the desk last heard of it."""

    reply_id: uuid.UUID
    text: str
    status: str
    """pending_approval, rejected, requested, local, sent, delivered, read or failed."""
    created_at: datetime
    status_at: datetime | None = None
    """When it reached ``status``: for "sent", the send the notifier reported; for
    "requested", when it was asked for or approved."""
    platform_message_id: str | None = None
    """The platform's id of what was sent, once the notifier or an echo told it."""


@dataclass(frozen=True, slots=True)
class InboxReply:
    """A message typed in a platform's inbox, filed on a ticket."""

    platform: Platform
    platform_message_id: str
    at: datetime
    counted: bool = False
    """Already counted as the ticket's reply (on arrival, or by an earlier routing)."""


def inbox_agent(platform: str) -> str:
    """Who answered, for a reply typed in ``platform``'s own inbox: ``inbox:<platform>``."""
    return f"{INBOX_AGENT_PREFIX}{platform}"


def inbox_reply_id(ticket_id: uuid.UUID, platform: str, platform_message_id: str) -> uuid.UUID:
    """The reply id of a message typed in the inbox: the same message read twice (a
    redelivery, a replay) is the same reply, never a second one."""
    return uuid.uuid5(_INBOX_REPLY_NS, f"{ticket_id}:{platform}:{platform_message_id}")


def echo_of(
    replies: Iterable[OurReply], *, platform_message_id: str, text: str, at: datetime
) -> OurReply | None:
    """The reply of ours that a message of our account coming back at ``at`` is the echo
    of, if any.

    The platform's id settles it whenever we know the id of what we sent, however late the
    echo (a reply held for approval, slowed by rate limits, an outage). Without an id, the
    same words (:func:`~socialdesk_assigner.domain.replies.is_echo_of`) settle it only for
    a reply sent within :data:`ECHO_WINDOW` before the echo, or still on its way (asked for
    or approved, not yet reported sent, within :data:`IN_FLIGHT_WINDOW`), and never for a
    message typed before the reply was asked for (:data:`ECHO_SKEW` aside). A reply held,
    rejected, failed or only written to the local sink was never posted: nothing echoes
    it. Of several with the same words, the oldest: the first sent comes back first.
    """
    candidates = list(replies)
    for reply in candidates:
        if reply.platform_message_id == platform_message_id:
            return reply
    worded = [
        r
        for r in candidates
        if r.platform_message_id is None and _may_echo(r, at) and is_echo_of(r.text, text)
    ]
    return min(worded, key=lambda r: r.created_at, default=None)


def _may_echo(reply: OurReply, at: datetime) -> bool:
    if at < reply.created_at - ECHO_SKEW:  # typed before we wrote it: a person's, come late
        return False
    since = reply.status_at or reply.created_at
    if reply.status in _SENT:
        # "sent": the reported send; "delivered"/"read" came later, so the window is wider
        return since >= at - ECHO_WINDOW
    if reply.status in _IN_FLIGHT:
        return since >= at - IN_FLIGHT_WINDOW
    return False


def answered_in_inbox(
    ticket: Ticket,
    *,
    platform: Platform,
    platform_message_id: str,
    at: datetime,
    now: datetime,
    cause: Event | None = None,
) -> Step:
    """A person at the brand answered the customer in ``platform``'s inbox at ``at``.

    On a CX ticket being worked (open, assigned or pending) it is an agent reply for the
    SLA clocks: ``AgentReplied`` (first response when none was made), which meets the
    first-response, next-response and follow-up clocks as a desk reply does. It claims
    nothing: nobody at the desk is named. On a marketing or dismissed ticket (no CX clock)
    it is recorded as the ticket's first response and emits nothing. On a resolved ticket
    nothing changes: no clock runs, the brand's words do not reopen it (the customer's do),
    and a reply after the close is not the ticket's first response.
    """
    if ticket.status == "resolved":
        return Step(ticket, (), "inbox_reply_after_resolve")
    first = ticket.first_response_at is None
    answered = replace(
        ticket,
        # typed before the desk's first reply but read after it: the first response is this one
        first_response_at=at if ticket.first_response_at is None else min(at, ticket.first_response_at),
        last_activity_at=at if ticket.last_activity_at is None else max(at, ticket.last_activity_at),
    )
    if ticket.queue != "cx" or ticket.status not in _WORKABLE:
        return Step(answered, (), "inbox_reply")
    envelope = facts.envelope(ticket, now)
    if cause is not None:  # the ticket's story, caused by what the platform told us
        envelope["causation_id"] = cause.event_id
    replied = AgentReplied(
        **envelope,
        reply_id=inbox_reply_id(ticket.ticket_id, platform, platform_message_id),
        brand=ticket.brand,
        platform=ticket.platform,
        agent_id=inbox_agent(platform),
        replied_at=at,
        is_first_response=first,
    )
    return Step(answered, (replied,), "inbox_reply")


def counted(step: Step) -> bool:
    """Whether :func:`answered_in_inbox`'s ``step`` counted the message as the ticket's reply
    (it must never count again, decision 0305 addendum); on a resolved ticket it did not."""
    return step.transition == "inbox_reply"


def answered_before_routing(
    ticket: Ticket, typed: Sequence[InboxReply], *, opened_at: datetime, now: datetime
) -> tuple[Step, tuple[InboxReply, ...]]:
    """The inbox replies that reached the desk before the customer message that opened (or
    reopened) ``ticket`` was routed (the classifier lagged): each one typed at or after
    ``opened_at`` and not counted before counts now, in the order typed, as it would have on
    arrival. One typed before it answered an earlier episode, or nothing of this ticket; one
    counted already (before a resolve, then reopened) was this ticket's reply once. Returns
    the step and the replies it counted."""
    events: list[Event] = []
    taken: list[InboxReply] = []
    for reply in sorted(typed, key=lambda r: r.at):
        if reply.at < opened_at or reply.counted:
            continue
        step = answered_in_inbox(
            ticket,
            platform=reply.platform,
            platform_message_id=reply.platform_message_id,
            at=reply.at,
            now=now,
        )
        ticket = step.ticket
        events.extend(step.events)
        if counted(step):
            taken.append(reply)
    return Step(ticket, tuple(events), "inbox_reply"), tuple(taken)
