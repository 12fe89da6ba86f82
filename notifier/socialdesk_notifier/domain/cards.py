"""Slack messages about one ticket (issue 11): what happened, to whom, and what to do now.

Every ticket message carries the same facts (brand, platform, customer handle, an excerpt
of what they wrote, category, priority, owner, time left or overdue, a link to the desk)
and, while the ticket is open, the buttons. The parent of a ticket's thread is re-rendered
from the ticket's current state (``parent_card``) each time it changes.

Usage::

    ctx = TicketContext(ticket_id=..., brand="ourbus", ...)
    payload = ticket_message(":rotating_light: Breach", ctx, config=config, now=now,
                             desk_url="http://127.0.0.1:8083", kind="escalation")
    # {"text": ..., "blocks": [...], "kind": "escalation", "ticket_id": ..., "threaded": True}
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from socialdesk_runtime.config import SocialdeskConfig

__all__ = [
    "ACKNOWLEDGE",
    "CLAIM",
    "TAKE_OWNERSHIP",
    "TicketContext",
    "agent_label",
    "parent_card",
    "ticket_link",
    "ticket_message",
    "time_left",
]

SECTION_LIMIT: Final = 3000
EXCERPT_LIMIT: Final = 280
ACKNOWLEDGE: Final = "acknowledge"
TAKE_OWNERSHIP: Final = "take_ownership"
CLAIM: Final = "claim"

_PRIORITY_MARK = {
    "critical": ":rotating_light:",
    "high": ":warning:",
    "medium": ":large_blue_circle:",
    "low": ":white_circle:",
}


@dataclass(frozen=True, slots=True)
class TicketContext:
    """What the notifier knows of one ticket, from the events it consumes (any may be missing)."""

    ticket_id: uuid.UUID
    brand: str
    correlation_id: uuid.UUID | None = None
    platform: str | None = None
    handle: str | None = None
    excerpt: str | None = None
    category: str | None = None
    priority: str | None = None
    queue: str | None = None
    owner_agent_id: str | None = None
    level: str | None = None
    deadline: datetime | None = None
    #: open | answered | resolved
    state: str = "open"
    acknowledged_by: str | None = None
    claimed_by: str | None = None

    @property
    def resolved(self) -> bool:
        return self.state == "resolved"


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def oneline(text: str, limit: int) -> str:
    """Free text (a customer's words, a reason) on one line, cut to ``limit``."""
    return cut(" ".join(text.split()), limit)


def _escape(text: str) -> str:
    """Customer text in mrkdwn: no mentions, links or formatting of theirs take effect."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ticket_link(desk_url: str, ticket_id: uuid.UUID) -> str:
    return f"{desk_url.rstrip('/')}/desk/tickets/{ticket_id}"


def agent_label(config: SocialdeskConfig, agent_id: str | None, *, mention: bool = True) -> str:
    """An agent as Slack shows them: their mention when mapped, else their name."""
    if agent_id is None:
        return "nobody (queued)"
    agent = next((a for a in config.agents if a.id == agent_id), None)
    if agent is None:
        return agent_id
    if mention and agent.slack_user_id:
        return f"<@{agent.slack_user_id}>"
    return agent.name


def time_left(deadline: datetime | None, now: datetime) -> str | None:
    """``12 min left`` / ``3 min overdue`` / None without a deadline."""
    if deadline is None:
        return None
    seconds = (deadline - now).total_seconds()
    span = abs(seconds)
    amount = (
        f"{span:.0f} s" if span < 60 else f"{span / 60:.0f} min" if span < 5400 else f"{span / 3600:.1f} h"
    )
    return f"{amount} left" if seconds >= 0 else f"{amount} overdue"


def _facts(ctx: TicketContext, config: SocialdeskConfig, now: datetime) -> list[dict[str, Any]]:
    brand = next((b.name for b in config.brands if b.id == ctx.brand), ctx.brand)
    fields = [
        f"*Brand*\n{brand}",
        f"*Platform*\n{ctx.platform or 'unknown'}",
        f"*Customer*\n{_escape(ctx.handle) if ctx.handle else 'unknown'}",
        f"*Category / priority*\n{ctx.category or 'unclassified'} / {ctx.priority or 'unknown'}",
        f"*Owner*\n{agent_label(config, ctx.owner_agent_id)}",
    ]
    left = time_left(ctx.deadline, now)
    if left is not None and not ctx.resolved:
        fields.append(f"*SLA*\n{left}")
    return [{"type": "mrkdwn", "text": cut(f, 1900)} for f in fields]


def _buttons(ctx: TicketContext, actions: tuple[str, ...]) -> dict[str, Any]:
    labels = {ACKNOWLEDGE: "Acknowledge", TAKE_OWNERSHIP: "Take ownership", CLAIM: "Claim"}
    elements = []
    for action in actions:
        button: dict[str, Any] = {
            "type": "button",
            "action_id": action,
            "text": {"type": "plain_text", "text": labels[action]},
            "value": str(ctx.ticket_id),
        }
        if action in (ACKNOWLEDGE, CLAIM):
            button["style"] = "primary"
        elements.append(button)
    return {"type": "actions", "block_id": f"ticket:{ctx.ticket_id}", "elements": elements}


def ticket_message(
    headline: str,
    ctx: TicketContext,
    *,
    config: SocialdeskConfig,
    now: datetime,
    desk_url: str,
    kind: str,
    actions: tuple[str, ...] = (ACKNOWLEDGE, TAKE_OWNERSHIP),
    status: str | None = None,
    threaded: bool = True,
) -> dict[str, Any]:
    """A ticket's message: headline, the customer's words, the facts, a desk link, buttons.

    ``text`` is the notification fallback (and what screen readers say): the headline with
    the brand, priority and time left, never empty.
    """
    link = ticket_link(desk_url, ctx.ticket_id)
    left = time_left(ctx.deadline, now)
    fallback = oneline(headline, 2500)
    if left is not None and not ctx.resolved:
        fallback += f" ({left})"
    body = f"{headline}\n<{link}|Open ticket in the desk>"
    if ctx.excerpt:
        body += "\n> " + _escape(oneline(ctx.excerpt, EXCERPT_LIMIT))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": cut(body, SECTION_LIMIT)}},
        {"type": "section", "fields": _facts(ctx, config, now)},
    ]
    if status:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": cut(status, 1900)}]})
    if actions and not ctx.resolved:
        blocks.append(_buttons(ctx, actions))
    return {
        "text": fallback,
        "blocks": blocks,
        "kind": kind,
        "brand": ctx.brand,
        "ticket_id": str(ctx.ticket_id),
        "threaded": threaded,
    }


def _state_line(ctx: TicketContext, config: SocialdeskConfig) -> str:
    if ctx.resolved:
        return ":white_check_mark: Resolved"
    parts: list[str] = []
    if ctx.level:
        parts.append(f":arrow_up: Escalated to {ctx.level}")
    if ctx.state == "answered":
        parts.append(":speech_balloon: Answered")
    if ctx.acknowledged_by:
        parts.append(f":eyes: Acknowledged by {agent_label(config, ctx.acknowledged_by)}")
    if ctx.claimed_by:
        parts.append(f":raising_hand: Taken by {agent_label(config, ctx.claimed_by)}")
    return " · ".join(parts) or ":inbox_tray: Open"


def parent_card(
    ctx: TicketContext, *, config: SocialdeskConfig, now: datetime, desk_url: str, kind: str
) -> dict[str, Any]:
    """The thread parent re-rendered to the ticket's current state (for ``chat.update``).

    A resolved ticket loses its buttons; a marketing hand-off keeps only Claim.
    """
    brand = next((b.name for b in config.brands if b.id == ctx.brand), ctx.brand)
    mark = _PRIORITY_MARK.get(ctx.priority or "", "")
    headline = f"{mark} {brand} {ctx.platform or ''} ticket: {_state_line(ctx, config)}".strip()
    actions: tuple[str, ...] = (CLAIM,) if kind == "marketing" else (ACKNOWLEDGE, TAKE_OWNERSHIP)
    if ctx.claimed_by:
        # Someone took it: only Acknowledge is left to press (a marketing claim ends it).
        actions = () if kind == "marketing" or ctx.acknowledged_by else (ACKNOWLEDGE,)
    owner = agent_label(config, ctx.owner_agent_id, mention=False)
    status = f"Current state · owner: {owner} · updated {now:%H:%M:%S} UTC"
    return ticket_message(
        headline, ctx, config=config, now=now, desk_url=desk_url, kind=kind, actions=actions, status=status
    )
