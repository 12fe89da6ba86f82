"""A platform's receipt (delivered, read, failed) applied to the replies it names.

Statuses only move forward (sent → delivered → read; failed is final), so a late or
repeated receipt changes nothing and says nothing twice. A ``failed`` status (WhatsApp
sends them, e.g. 131047 when the window closed meanwhile) fails its reply.

Usage::

    changes = apply_receipt(report, sent_parts, now=now)
    for part, status in changes.updates: ...   # store
    for event in changes.events: ...           # emit
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from socialdesk_notifier.domain.platform_errors import graph_verdict
from socialdesk_schemas import Event
from socialdesk_schemas.outbound import DeliveryFailed, ReplyStatusChanged
from socialdesk_schemas.platforms import PlatformDeliveryReported

__all__ = ["ReceiptChanges", "advances", "apply_receipt", "reply_id_of_key"]

_RANK: Final = {"sent": 0, "delivered": 1, "read": 2}


def advances(current: str, new: str) -> bool:
    if current == "failed":
        return False
    if new == "failed":
        return True
    return new in _RANK and _RANK[new] > _RANK.get(current, 0)


def reply_id_of_key(key: str | None) -> uuid.UUID | None:
    """The reply a ``sd:<reply_id>[#n]`` key names (None for anything else)."""
    if not key or not key.startswith("sd:"):
        return None
    try:
        return uuid.UUID(key[3:].split("#", 1)[0])
    except ValueError:
        return None


@dataclass
class ReceiptChanges:
    updates: list[tuple[str, str]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def apply_receipt(
    report: PlatformDeliveryReported, parts: list[dict[str, Any]], *, now: datetime
) -> ReceiptChanges:
    """What ``report`` changes for the sent ``parts`` (rows of reply_messages) it names."""
    changes = ReceiptChanges()
    announced: set[uuid.UUID] = set()
    for part in sorted(parts, key=lambda p: p["sent_at"]):
        if not advances(part["status"], report.status):
            continue
        changes.updates.append((part["platform_message_id"], report.status))
        if part["reply_id"] in announced:
            continue
        announced.add(part["reply_id"])
        envelope = {
            "producer": "notifier",
            "occurred_at": now,
            "ticket_id": part["ticket_id"],
            "correlation_id": part["correlation_id"],
            "causation_id": report.event_id,
            "reply_id": part["reply_id"],
            "brand": part["brand"],
            "platform": report.platform,
        }
        at = report.reported_at or now
        changes.events.append(
            ReplyStatusChanged.model_validate(
                {**envelope, "status": report.status, "at": at, "platform_error_code": report.error_code}
            )
        )
        if report.status == "failed":
            reason = "platform_error"
            if report.error_code is not None:
                reason = graph_verdict(http_status=400, code=report.error_code, subcode=None).reason
            changes.events.append(
                DeliveryFailed.model_validate(
                    {
                        **envelope,
                        "reason": reason,
                        "platform_error_code": report.error_code,
                        "detail": report.error_title or "the platform reported the message as failed",
                        "failed_at": at,
                    }
                )
            )
    return changes
