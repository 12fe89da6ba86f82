"""What is owed to Freshdesk for each event: operations in a ticket's order.

An operation is one of ``create`` (the ticket, once), ``note`` (private, public or
incoming) or ``update`` (priority, responder, tags, status). Each is keyed by its source
event and its role, so a redelivered event adds nothing. Every payload is decided here,
when the event is consumed, so a retry sends exactly what the first attempt sent; only
the create's subject and description are composed at send time, from the first message
(which may be consumed after its classification).
"""

from __future__ import annotations

import base64
import html
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from socialdesk_runtime.config.freshdesk import FreshdeskBrand
from socialdesk_schemas import MessageClassified, Priority

__all__ = [
    "BREACH_TAG",
    "OPEN",
    "RESOLVED",
    "Mirror",
    "Op",
    "OpPlan",
    "backfill_plan",
    "create_body",
    "escalation_priority",
    "marker_tag",
    "note_body",
    "tags_for",
    "ticket_tags",
]

OpKind = Literal["create", "note", "update"]

#: Freshdesk statuses.
OPEN = 2
RESOLVED = 4
#: Freshdesk ticket source: 7 Chat (a social conversation, not an e-mail).
SOURCE_CHAT = 7
BREACH_TAG = "sla-breached"
#: Freshdesk keeps tags short: ours are cut to this length.
TAG_LIMIT = 32
SUBJECT_LIMIT = 80


@dataclass(frozen=True, slots=True)
class OpPlan:
    """One operation owed, before it is stored."""

    kind: OpKind
    role: str  # unique per source event: "create", "reasons", "note", "priority", ...
    payload: dict[str, Any]

    def key(self, source_event_id: uuid.UUID) -> str:
        return f"{source_event_id}:{self.role}"


@dataclass(frozen=True, slots=True)
class Op:
    """One operation as claimed by a worker (``attempts`` counts this one)."""

    id: int
    idempotency_key: str
    ticket_id: uuid.UUID
    brand: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    throttles: int
    lease_until: datetime | None
    ambiguous_since: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Mirror:
    """What the notifier knows of a ticket (from ticket.messages and ticket.classified)."""

    ticket_id: uuid.UUID
    brand: str
    platform: str
    kind: str
    customer_platform_user_id: str
    customer_name: str | None
    first_text: str
    opened_at: datetime
    queue: str | None = None
    category: str | None = None
    priority: str | None = None
    incident_group: str | None = None
    state: str = "open"
    fd_ticket_id: int | None = None
    fd_requester_id: int | None = None
    fd_priority: int | None = None
    fd_tags: list[str] | None = field(default=None)
    fd_status: int | None = None

    @property
    def external_id(self) -> str:
        """The requester's ``unique_external_id``: the social identity, never an e-mail."""
        return f"{self.platform}:{self.customer_platform_user_id}"


def marker_tag(ticket_id: uuid.UUID) -> str:
    """The tag that names our ticket on its Freshdesk ticket (how a lost create is found)."""
    return "sd-" + base64.b32encode(ticket_id.bytes).decode("ascii").rstrip("=").lower()


def _tag(value: str) -> str:
    return value.strip().replace(",", " ")[:TAG_LIMIT]


def ticket_tags(event: MessageClassified, account: FreshdeskBrand) -> list[str]:
    """brand, platform, kind, category, queue, incident group, the marker, the brand's own."""
    return tags_for(
        ticket_id=event.ticket_id,
        brand=event.brand,
        platform=event.platform,
        kind=event.kind,
        category=event.category,
        queue=event.queue,
        incident_group=event.group_id,
        account=account,
    )


def tags_for(
    *,
    ticket_id: uuid.UUID,
    brand: str,
    platform: str,
    kind: str,
    category: str | None,
    queue: str | None,
    incident_group: str | None,
    account: FreshdeskBrand,
) -> list[str]:
    tags = [brand, platform, kind]
    if category:
        tags.append(category)
    if queue and queue != "cx":
        tags.append(queue)
    if incident_group:
        tags.append(f"incident-{incident_group}")
    tags.append(marker_tag(ticket_id))
    tags.extend(account.tags)
    out: list[str] = []
    for tag in map(_tag, tags):
        if tag and tag not in out:
            out.append(tag)
    return out


def backfill_plan(mirror: Mirror, account: FreshdeskBrand) -> OpPlan:
    """The create a ticket opened before the connector was switched on is owed."""
    priority = mirror.fd_priority or account.priorities.get(mirror.priority or "medium", 2)  # type: ignore[call-overload]  # a Priority literal from the mirror
    tags = mirror.fd_tags or tags_for(
        ticket_id=mirror.ticket_id,
        brand=mirror.brand,
        platform=mirror.platform,
        kind=mirror.kind,
        category=mirror.category,
        queue=mirror.queue,
        incident_group=mirror.incident_group,
        account=account,
    )
    return OpPlan("create", "create", {"priority": priority, "tags": tags})


def escalation_priority(current: int | None, ours: Priority, account: FreshdeskBrand) -> int:
    """One step up from what Freshdesk has (or from our mapped priority), Urgent at most."""
    base = current if current is not None else account.priorities[ours]
    return min(4, base + 1)


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip()) or "<p></p>"


def note_body(text: str) -> str:
    """A note's HTML body from plain text."""
    return _paragraphs(text)


def create_body(mirror: Mirror, payload: dict[str, Any], account: FreshdeskBrand) -> dict[str, Any]:
    """The ``POST /api/v2/tickets`` body of a ticket's create operation.

    The requester is found or made by ``unique_external_id`` (Freshdesk creates the
    contact when none has it): one call per ticket, and no made-up e-mail.
    """
    first_line = " ".join(mirror.first_text.split())
    subject = f"{mirror.platform} {mirror.kind}: {first_line}"
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 1] + "…"
    description = _paragraphs(mirror.first_text)
    if account.desk_ticket_url:
        link = html.escape(account.desk_ticket_url.format(ticket_id=mirror.ticket_id))
        description += f'<p>socialdesk ticket: <a href="{link}">{mirror.ticket_id}</a></p>'
    else:
        description += f"<p>socialdesk ticket: {mirror.ticket_id}</p>"
    body: dict[str, Any] = {
        "subject": subject,
        "description": description,
        "unique_external_id": mirror.external_id,
        "name": mirror.customer_name or mirror.external_id,
        "group_id": account.group_id,
        "priority": int(payload["priority"]),
        "status": OPEN,
        "source": SOURCE_CHAT,
        "tags": list(payload["tags"]),
    }
    if payload.get("responder_id"):
        body["responder_id"] = int(payload["responder_id"])
    return body
