"""What the desk shows: whose queue holds which tickets, in what order, and a line of history
for each event of a ticket."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialdesk_assigner.domain.permissions import rank
from socialdesk_runtime.config import Agent
from socialdesk_schemas import Event, Priority

__all__ = ["DESCRIBED", "PRIORITY_ORDER", "QueueScope", "describe", "history_rows", "queue_scope"]

#: Most urgent first.
PRIORITY_ORDER: dict[Priority, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3}
OPEN_STATES = ("open", "assigned", "pending")


@dataclass(frozen=True, slots=True)
class QueueScope:
    """Which open tickets an agent's queue holds.

    ``brands`` ``None`` means every brand (TMT); ``owner_or_unowned`` set means only that
    agent's own tickets and the unowned ones (L1, L2).
    """

    brands: frozenset[str] | None
    owner_or_unowned: str | None


def queue_scope(agent: Agent) -> QueueScope:
    """L1/L2: their own tickets and their brands' unowned queue; L3/L4: every open ticket of
    their brands (escalated ones included); TMT: everything."""
    if rank(agent.level) >= rank("TMT"):
        return QueueScope(None, None)
    if rank(agent.level) >= rank("L3"):
        return QueueScope(frozenset(agent.brands), None)
    return QueueScope(frozenset(agent.brands), agent.id)


#: The event fields a history line's detail names, in this order (``name=value; ...``).
DESCRIBED = (
    "reason",
    "previous_agent_id",
    "metric",
    "clock",
    "outcome",
    "from_level",
    "to_level",
    "root_cause",
    "due_at",
    "status",
    "category",
)


def _shown(value: Any) -> Any:
    """A field as the event's JSON shows it (UTC times end in ``Z``)."""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return value


def describe(event: Event) -> tuple[str, str | None, str]:
    """One line of a ticket's history for ``event``: (kind, who, what).

    Reads the few fields it shows from the event itself: dumping every event to JSON
    first was a good share of the routing path's CPU."""
    actor = getattr(event, "agent_id", None) or getattr(event, "to_agent_id", None)
    parts: list[str] = []
    for name in DESCRIBED:
        value = getattr(event, name, None)
        if value not in (None, ""):
            parts.append(f"{name}={_shown(value)}")
    return event.event_type, actor if isinstance(actor, str) else None, "; ".join(parts)[:1000]


def history_rows(events: Iterable[Event], now: datetime | None = None) -> list[dict[str, Any]]:
    """The history lines of ``events`` (one per event) as rows for the store."""
    rows = []
    for event in events:
        kind, actor, detail = describe(event)
        at = now or event.occurred_at
        rows.append({"ticket_id": event.ticket_id, "at": at, "kind": kind, "actor": actor, "detail": detail})
    return rows
