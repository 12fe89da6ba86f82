"""Reconciliation: messages read back from a platform's API, as the webhook would have
delivered them. Pure.

Peers lose webhooks (Chatwoot's users report messages that never arrived). The poller
reads recent conversations through the Graph API and turns each customer message into
the ``messaging`` item Meta would have sent, stored as a delivery of source
``meta_poll``: the same extraction then stores it unless it already came (exactly once
by message id), so what the webhook delivered and what the poll finds never double.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from socialdesk_ingest.domain.platforms.items import as_dict, as_list, str_id, text_of

__all__ = ["POLL_SOURCE", "conversations_as_delivery"]

POLL_SOURCE = "meta_poll"


def _ms(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return int(datetime.strptime(value, fmt).astimezone(UTC).timestamp() * 1000)
        except ValueError:
            continue
    return None


def conversations_as_delivery(
    answer: Any, *, platform: str, account_id: str, since: datetime
) -> dict[str, Any] | None:
    """A ``GET /<account>/conversations?fields=messages{id,message,from,created_time}``
    answer as one webhook body with the customers' messages since ``since``; ``None`` if
    there are none. Our own messages are left out (their echoes are not customer messages)."""
    items: list[dict[str, Any]] = []
    floor = since.timestamp() * 1000
    for conv in as_list(as_dict(answer).get("data")):
        for m in as_list(as_dict(as_dict(conv).get("messages")).get("data")):
            m = as_dict(m)
            mid, sender = str_id(m.get("id")), str_id(as_dict(m.get("from")).get("id"))
            at = _ms(m.get("created_time"))
            if mid is None or sender is None or sender == account_id or at is None or at < floor:
                continue
            items.append(
                {
                    "sender": {"id": sender},
                    "recipient": {"id": account_id},
                    "timestamp": at,
                    "message": {"mid": mid, "text": text_of(m.get("message"))},
                }
            )
    if not items:
        return None
    obj = "instagram" if platform == "instagram" else "page"
    return {
        "object": obj,
        "entry": [{"id": account_id, "time": max(i["timestamp"] for i in items), "messaging": items}],
    }
