"""Each consumed event → the operations it owes Freshdesk (pure; the handlers store them).

Usage::

    plans = plans_for_classified(event, account)   # [OpPlan(create), OpPlan(note reasons)]
"""

from __future__ import annotations

from socialdesk_notifier.freshdesk.domain.ops import (
    BREACH_TAG,
    OPEN,
    RESOLVED,
    Mirror,
    OpPlan,
    escalation_priority,
    note_body,
    ticket_tags,
)
from socialdesk_runtime.config.freshdesk import FreshdeskBrand
from socialdesk_schemas import (
    MessageClassified,
    MessageReceived,
    ReplyRequested,
    SlaBreached,
    TicketAssigned,
    TicketEscalated,
    TicketResolved,
)
from socialdesk_schemas.desk import InternalNoteAdded, TicketPriorityRaised, TicketReopened

__all__ = [
    "plans_for_assigned",
    "plans_for_breach",
    "plans_for_classified",
    "plans_for_escalation",
    "plans_for_later_message",
    "plans_for_note",
    "plans_for_priority_raised",
    "plans_for_reopened",
    "plans_for_reply",
    "plans_for_resolved",
]


def plans_for_classified(event: MessageClassified, account: FreshdeskBrand) -> list[OpPlan]:
    """The ticket's create (noise is never synced), and why we classified it (private)."""
    if not event.opens_ticket or event.queue == "ignore":
        return []
    plans = [
        OpPlan(
            "create",
            "create",
            {"priority": account.priorities[event.priority], "tags": ticket_tags(event, account)},
        )
    ]
    lines = [
        f"socialdesk classified this {event.platform} {event.kind}: queue {event.queue}, "
        f"category {event.category}, priority {event.priority}, sentiment {event.sentiment}, "
        f"language {event.language}."
    ]
    lines.extend(f"- {reason}" for reason in event.reasons)
    if event.auto_reply:
        lines.append(f"Auto-reply template: {event.auto_reply}")
    plans.append(OpPlan("note", "reasons", {"body": note_body("\n".join(lines)), "private": True}))
    return plans


def plans_for_later_message(event: MessageReceived) -> list[OpPlan]:
    """A customer's later message shows in Freshdesk as coming from outside."""
    if event.opens_ticket:
        return []
    return [OpPlan("note", "message", {"body": note_body(event.text), "private": False, "incoming": True})]


def plans_for_reply(event: ReplyRequested) -> list[OpPlan]:
    """Our reply (an agent's or an auto-reply) as a public note; Freshdesk never mails it."""
    who = f"agent {event.agent_id}" if event.agent_id else "auto-reply"
    text = f"{event.text}\n\n(sent on {event.platform} by socialdesk, {who})"
    return [OpPlan("note", "reply", {"body": note_body(text), "private": False, "incoming": False})]


def plans_for_note(event: InternalNoteAdded) -> list[OpPlan]:
    return [OpPlan("note", "note", {"body": note_body(f"{event.agent_id}: {event.text}"), "private": True})]


def plans_for_assigned(event: TicketAssigned, account: FreshdeskBrand) -> list[OpPlan]:
    """The responder follows our owner, when the owner has a Freshdesk agent."""
    responder = account.agents.get(event.agent_id)
    if responder is None:
        return []
    return [OpPlan("update", "responder", {"responder_id": responder})]


def plans_for_escalation(
    event: TicketEscalated, mirror: Mirror | None, account: FreshdeskBrand
) -> tuple[list[OpPlan], int]:
    """A private note saying who must act and why, and the priority one step up."""
    priority = escalation_priority(mirror.fd_priority if mirror else None, event.priority, account)
    who = f" ({event.to_agent_id})" if event.to_agent_id else ""
    text = f"Escalated by socialdesk from {event.from_level or 'the queue'} to {event.to_level}{who}: {event.reason}"
    if event.deadline:
        text += f"\nDeadline: {event.deadline.isoformat()}"
    plans = [OpPlan("note", "escalation", {"body": note_body(text), "private": True})]
    if mirror is None or mirror.fd_priority != priority:  # already Urgent: nothing to raise
        plans.append(OpPlan("update", "priority", {"priority": priority}))
    return plans, priority


def plans_for_breach(event: SlaBreached, mirror: Mirror | None) -> tuple[list[OpPlan], list[str] | None]:
    """The ticket tagged as breached. A PUT replaces the tags, so the worker sends the
    ticket's tags with ``add_tags`` merged in; the mirror's decided tags include it now."""
    tags = list(mirror.fd_tags) if mirror is not None and mirror.fd_tags is not None else None
    if tags is not None and BREACH_TAG in tags:
        return [], tags
    plan = OpPlan("update", "breach", {"add_tags": [BREACH_TAG]})
    return [plan], None if tags is None else [*tags, BREACH_TAG]


def plans_for_resolved(event: TicketResolved, mirror: Mirror | None = None) -> list[OpPlan]:
    """Resolved in Freshdesk too, with the root cause as a private note; no status update
    when Freshdesk is where it was resolved (setting it again could undo a reopen there)."""
    text = f"Resolved in socialdesk by {event.agent_id}. Root cause: {event.root_cause}"
    plans = [OpPlan("note", "root_cause", {"body": note_body(text), "private": True})]
    if mirror is None or mirror.fd_status not in (RESOLVED, 5):
        plans.append(OpPlan("update", "resolve", {"status": RESOLVED}))
    return plans


def plans_for_priority_raised(
    event: TicketPriorityRaised, mirror: Mirror | None, account: FreshdeskBrand
) -> tuple[list[OpPlan], int]:
    """A private note saying why, and Freshdesk's priority raised to the mapped one (never
    lowered: an escalation may have raised it further already)."""
    current = mirror.fd_priority if mirror is not None else None
    priority = max(account.priorities[event.priority], current or 0)
    why = f" ({event.reason})" if event.reason else ""
    text = f"Priority raised by socialdesk from {event.previous_priority} to {event.priority}{why}."
    plans = [OpPlan("note", "priority_raised", {"body": note_body(text), "private": True})]
    if current != priority:
        plans.append(OpPlan("update", "priority", {"priority": priority}))
    return plans, priority


def plans_for_reopened(event: TicketReopened, mirror: Mirror | None) -> list[OpPlan]:
    """Open in Freshdesk again, with why as a private note; nothing when Freshdesk is where it
    was reopened (the mirror already holds its Open or Pending)."""
    if mirror is None or (mirror.state != "resolved" and mirror.fd_status not in (RESOLVED, 5)):
        return []
    why = "the customer wrote again" if event.reason == "customer_wrote" else f"by {event.agent_id}"
    return [
        OpPlan("note", "reopened", {"body": note_body(f"Reopened in socialdesk: {why}."), "private": True}),
        OpPlan("update", "reopen", {"status": OPEN}),
    ]
