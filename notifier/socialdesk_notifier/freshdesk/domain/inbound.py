"""What an Automation-rule webhook from Freshdesk says, and whether it is news.

The README tells people to configure rules that POST this JSON body (placeholders are
Freshdesk's), with the secret in a custom header::

    {"ticket_id": "{{ticket.id}}", "event": "reply", "status": "{{ticket.status}}",
     "body": "{{ticket.latest_public_comment}}", "agent_email": "{{ticket.agent.email}}",
     "agent_id": "{{ticket.agent.id}}", "conversation_id": "..."}

``event`` is ``reply`` (an agent replied), ``note`` (an agent added a private note: the
body is ``{{ticket.latest_private_comment}}``) or ``status`` (the status changed: resolved
or closed resolves; Open or Pending on a ticket resolved here reopens it). A change the
connector itself made (a note whose id is in the ops log, a body equal to a note we wrote,
a status we set) is recognised and not echoed back.
"""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from dataclasses import dataclass
from typing import Any

from socialdesk_notifier.freshdesk.domain.ops import OPEN, RESOLVED, Mirror

__all__ = [
    "Inbound",
    "WebhookError",
    "inbound_key",
    "is_reopening",
    "is_resolution",
    "parse_webhook",
    "plain_text",
    "reply_id_for",
]

#: Names of the statuses Freshdesk fills ``{{ticket.status}}`` with.
_STATUS_NAMES = {"open": 2, "pending": 3, "resolved": 4, "closed": 5}
_NAMESPACE = uuid.UUID("6f1c3b58-43a5-4f0e-9d6f-7f2b1c8e5a13")
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\s*/?\s*>", re.IGNORECASE)


class WebhookError(ValueError):
    """The body is not what the Automation rule is documented to send (HTTP 400)."""


@dataclass(frozen=True, slots=True)
class Inbound:
    fd_ticket_id: int
    event: str  # reply | note | status
    status: int | None
    body: str
    agent_email: str | None
    agent_id: int | None
    conversation_id: str | None
    root_cause: str | None


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _status(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().lower() in _STATUS_NAMES:
        return _STATUS_NAMES[value.strip().lower()]
    return _int(value)


def parse_webhook(data: Any) -> Inbound:
    if not isinstance(data, dict):
        raise WebhookError("the body must be a JSON object")
    ticket = _int(data.get("ticket_id"))
    if ticket is None:
        raise WebhookError("ticket_id: a Freshdesk ticket id is required")
    event = str(data.get("event") or "").strip().lower()
    if event not in ("reply", "note", "status"):
        raise WebhookError("event: one of reply, note, status")
    conversation = data.get("conversation_id")
    return Inbound(
        fd_ticket_id=ticket,
        event=event,
        status=_status(data.get("status")),
        body=str(data.get("body") or ""),
        agent_email=str(data["agent_email"]) if data.get("agent_email") else None,
        agent_id=_int(data.get("agent_id")),
        conversation_id=str(conversation) if conversation not in (None, "") else None,
        root_cause=str(data["root_cause"]) if data.get("root_cause") else None,
    )


def plain_text(body: str) -> str:
    """An HTML comment or note as the plain text a customer is sent."""
    text = _BREAK.sub("\n", body)
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def inbound_key(brand: str, inbound: Inbound) -> str:
    """One key per reply (by conversation id, else by its text) or per status change."""
    if inbound.event == "status":
        return f"{brand}:{inbound.fd_ticket_id}:status:{inbound.status}"
    what = inbound.conversation_id or hashlib.sha256(plain_text(inbound.body).encode()).hexdigest()[:32]
    return f"{brand}:{inbound.fd_ticket_id}:{inbound.event}:{what}"


def reply_id_for(key: str) -> uuid.UUID:
    """The reply id an agent's reply in Freshdesk becomes (the same for a repeated webhook)."""
    return uuid.uuid5(_NAMESPACE, key)


def is_resolution(inbound: Inbound) -> bool:
    return inbound.event == "status" and inbound.status in (RESOLVED, 5)


#: Freshdesk's Pending: the agent waits on the customer, the ticket is not done.
PENDING = 3


def is_reopening(inbound: Inbound, mirror: Mirror) -> bool:
    """An agent set a ticket resolved (here, or in Freshdesk and not yet here) back to Open or
    Pending in Freshdesk. The echo of our own Open is told apart by the ops log (the
    webhook handler asks it first)."""
    return (
        inbound.event == "status"
        and inbound.status in (OPEN, PENDING)
        and (mirror.state == "resolved" or mirror.fd_status in (RESOLVED, 5))
    )


def is_our_status(inbound: Inbound, mirror: Mirror) -> bool:
    """A resolution socialdesk made (we resolved it, or set that status ourselves)."""
    return mirror.state == "resolved" or (mirror.fd_status is not None and mirror.fd_status == inbound.status)


def is_our_text(inbound: Inbound, our_bodies: list[str]) -> bool:
    text = plain_text(inbound.body)
    return any(plain_text(body) == text for body in our_bodies)
