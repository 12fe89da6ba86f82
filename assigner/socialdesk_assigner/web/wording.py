"""A ticket's history in words: "Assigned to Ana Torres (round robin)", "Reply requested",
"Note added", with people's names instead of their ids.

History lines are stored as the event's type, the agent it names and ``name=value`` pairs
(``domain.views.describe``); a few lines written by the desk itself carry free text. The
event names the new owner, not who acted, so a hand-off's "who" is the author of the
hand-off note written at the same instant (the page asks for one)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from socialdesk_assigner.domain.views import DESCRIBED
from socialdesk_assigner.web.html import e, when

__all__ = ["History", "history_lines"]

_PAIR = re.compile(rf"(?:^|; )({'|'.join(DESCRIBED)})=")
_ASSIGNED = {
    "round_robin": "round robin",
    "same_customer": "the customer's usual agent",
    "escalation": "escalation",
}
#: Kinds said in words; ``{who}`` is the person the line names, the rest come from its details.
_SAID: dict[str, str] = {
    "TicketQueued": "Waiting in the queue",
    "TicketDismissed": "Dismissed as noise",
    "TicketRoutedToMarketing": "Routed to marketing",
    "AgentReplied": "Replied",
    "ReplyRequested": "Reply requested",
    "TicketResolved": "Resolved",
    "TicketPending": "Set to pending",
    "TicketPriorityRaised": "Priority raised",
    "FollowUpPromised": "Follow-up promised",
    "FollowUpDue": "Follow-up due and not kept",
    "InternalNoteAdded": "Note added",
    "OwnershipRefused": "Ownership refused",
    "DeliveryFailed": "Delivery failed",
    "EscalationAcknowledged": "Escalation acknowledged in Slack",
    "OwnershipRequested": "Ownership asked in Slack",
    "TakeOwnershipInSlack": "Took ownership in Slack",
    "HelpdeskReplyReceived": "Replied from the helpdesk",
    "HelpdeskTicketResolved": "Resolved in the helpdesk",
    "HelpdeskNoteReceived": "Note added in the helpdesk",
    "HelpdeskTicketReopened": "Reopened in the helpdesk",
    "ReplyHeldForApproval": "Reply held for approval",
    "ReplyApproved": "Held reply approved and sent",
    "ReplyRejected": "Held reply rejected",
    "MarkedTestimonial": "Marked as a testimonial",
    "ReplyTypedInPlatformInbox": "Reply typed in the platform's own inbox",
    "KeywordRuleApplied": "Keyword rule applied",
    "NotificationDelivered": "Slack notified",
    "NotificationFailed": "Slack notification failed",
    "SlaClockArmed": "SLA clock started",
    "SlaClockStopped": "SLA clock stopped",
    "SlaWarning": "SLA warning",
    "SlaBreached": "SLA breached",
    "TicketEscalated": "Escalated",
}
#: Lines the desk writes by itself: the agent they name is the owner, not who acted.
_AUTOMATIC = {
    "SlaWarning",
    "SlaBreached",
    "SlaClockArmed",
    "SlaClockStopped",
    "FollowUpDue",
    "TicketEscalated",
    "TicketQueued",
    "TicketDismissed",
    "TicketRoutedToMarketing",
    "DeliveryFailed",
    "NotificationDelivered",
    "NotificationFailed",
    "KeywordRuleApplied",
}
_FREE_TEXT = {
    "ReplyHeldForApproval",
    "ReplyApproved",
    "ReplyRejected",
    "MarkedTestimonial",
    "ReplyTypedInPlatformInbox",
    "KeywordRuleApplied",
    "NotificationDelivered",
    "NotificationFailed",
    "TakeOwnershipInSlack",
}

History = tuple[str, str, str, str]  # when, what, who, detail (HTML)


def _pairs(detail: str) -> dict[str, str]:
    """``name=value; name=value`` back into its fields (a value may hold "; " itself)."""
    found = list(_PAIR.finditer(detail or ""))
    return {
        m.group(1): detail[m.end() : found[i + 1].start() if i + 1 < len(found) else len(detail)]
        for i, m in enumerate(found)
    }


def _words(kind: str) -> str:
    """``SomethingHappened`` as "Something happened" (a kind nobody described yet)."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", kind or "")
    return spaced[:1] + spaced[1:].lower()


def _value(key: str, value: str, name: Callable[[str | None], str]) -> str:
    if key == "due_at":
        return when(value)
    if key == "previous_agent_id":
        return e(name(value))
    return e(value.replace("_", " ") if key in ("metric", "clock", "outcome", "status") else value)


def history_lines(
    rows: Sequence[Mapping[str, Any]],
    notes: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
) -> list[History]:
    """Each history row as (when, what, who, detail), escaped HTML, names for ids."""

    def name(agent_id: str | None) -> str:
        return "" if not agent_id else names.get(agent_id, agent_id)

    handed_by = {str(n["added_at"]): n["agent_id"] for n in notes if n.get("kind") == "handoff"}
    reopened_by = {str(h["at"]): h.get("actor") for h in rows if h.get("kind") == "TicketReopened"}
    keyword_at = {str(h["at"]) for h in rows if h.get("kind") == "KeywordRuleApplied"}
    # a reply is two events (AgentReplied for the clocks, ReplyRequested to send it): one line
    requested = {(str(h["at"]), h.get("actor")) for h in rows if h.get("kind") == "ReplyRequested"}
    out: list[History] = []
    for row in rows:
        kind, actor, detail, at = row.get("kind") or "", row.get("actor"), row.get("detail") or "", row["at"]
        if kind == "AgentReplied" and (str(at), actor) in requested:
            continue
        fields = {} if kind in _FREE_TEXT else _pairs(detail)
        who = name(actor)
        extra = [
            f"{k.replace('_', ' ')}: {_value(k, v, name)}" for k, v in fields.items() if k not in ("reason",)
        ]
        said, automatic = _SAID.get(kind, _words(kind)), kind in _AUTOMATIC
        if kind == "TicketAssigned":
            said, who, extra, automatic = _assigned(
                fields, actor, at, name, handed_by, reopened_by, keyword_at
            )
        else:
            reason = fields.get("reason")
            if reason:
                extra.insert(0, e(reason.replace("_", " ") if kind == "TicketReopened" else reason))
            if kind in _FREE_TEXT and detail:
                extra.insert(0, e(detail))
            if kind in ("SlaWarning", "SlaBreached", "SlaClockArmed", "SlaClockStopped"):
                clock = fields.get("metric") or fields.get("clock") or ""
                said += f": {clock.replace('_', ' ')}" if clock else ""
                extra = [x for x in extra if not x.startswith(("metric:", "clock:"))]
            if kind == "TicketReopened":
                extra = [x for x in extra if x not in ("customer wrote", "agent")]
                if fields.get("reason") == "customer_wrote":  # the named agent is the owner
                    said, automatic = "Reopened: the customer wrote again", True
            if kind == "TicketEscalated":
                step = f"{fields.get('from_level', '?')} → {fields.get('to_level', '?')}"
                said = f"Escalated {step}"
                extra = [f"to {e(who)}" if who else ""] + [
                    x for x in extra if not x.startswith(("from level", "to level"))
                ]
            if automatic:
                if who and kind != "TicketEscalated":
                    extra.append(f"owner: {e(who)}")
                who = ""
        out.append(
            (
                when(at),
                e(said),
                e(who) if who else f'<span class="muted">{"automatic" if automatic else "–"}</span>',
                " · ".join(x for x in extra if x),
            )
        )
    return out


def _assigned(
    fields: Mapping[str, str],
    actor: str | None,
    at: Any,
    name: Callable[[str | None], str],
    handed_by: Mapping[str, str],
    reopened_by: Mapping[str, Any],
    keyword_at: set[str],
) -> tuple[str, str, list[str], bool]:
    """What a ``TicketAssigned`` line says: the new owner is in the event, who acted is not."""
    reason, to = fields.get("reason", ""), name(actor)
    previous = fields.get("previous_agent_id")
    was = [f"was {e(name(previous))}'s"] if previous else []
    if reason == "claimed":
        return "Claimed", to, was, False
    if reason in _ASSIGNED:
        return f"Assigned to {to} ({_ASSIGNED[reason]})", "", was, True
    key = str(at)
    if key in handed_by:  # a hand-off from the page or the API, with its note
        return "Handed off", name(handed_by[key]), [f"to {e(to)}", *was], False
    if reopened_by.get(key) == actor:
        return f"Taken by {to} on reopening", to, was, False
    if key in keyword_at:
        return f"Reassigned to {to} by a keyword rule", "", was, True
    # no note at that instant: the desk moved it (idle, offline, shift) or someone did
    # without a note; the event does not say which, so nobody is named
    return f"Reassigned to {to}", "", was, False
