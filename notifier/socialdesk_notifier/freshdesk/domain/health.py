"""The brand's warning when its Freshdesk connector stops (or works again).

Usage::

    event = health_changed("ourbus", healthy=False, problem="auth", detail="HTTP 401", retry_at=t, now=now)
    text = health_text(event, brand_name="OurBus", base_url="https://ourbus.freshdesk.com")
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from socialdesk_schemas.outbound import HelpdeskConnectorHealthChanged

__all__ = ["connector_key", "health_changed", "health_text"]

PRODUCER = "notifier"
_NS = uuid.UUID("3b1f2c7e-98d4-4c55-a0e2-6a9d1f4e7c21")
_PROBLEMS = {
    "auth": "Freshdesk refuses the API key (wrong, revoked, or its agent was removed)",
    "group": "Freshdesk refuses the group id (the Social Media group was deleted or renamed)",
}


def connector_key(brand: str) -> uuid.UUID:
    """A stable id per brand's connector: its health events share one key (one partition)."""
    return uuid.uuid5(_NS, f"freshdesk:{brand}")


def health_changed(
    brand: str,
    *,
    healthy: bool,
    problem: Literal["auth", "group"] | None,
    detail: str,
    retry_at: datetime | None,
    now: datetime,
) -> HelpdeskConnectorHealthChanged:
    key = connector_key(brand)
    return HelpdeskConnectorHealthChanged(
        producer=PRODUCER,
        occurred_at=now,
        ticket_id=key,
        correlation_id=key,
        brand=brand,
        healthy=healthy,
        problem=problem,
        detail=detail[:500],
        retry_at=retry_at,
        changed_at=now,
    )


def health_text(event: HelpdeskConnectorHealthChanged, *, brand_name: str, base_url: str) -> str:
    where = f"{brand_name} Freshdesk ({base_url})"
    if event.healthy:
        return f":white_check_mark: {where} works again: the tickets and notes that waited are being sent."
    problem = _PROBLEMS.get(event.problem or "", "Freshdesk refuses our calls")
    when = f" It is tried again at {event.retry_at:%H:%M} UTC." if event.retry_at else ""
    return (
        f":no_entry: {where}: {problem}. socialdesk keeps working; Freshdesk gets nothing until "
        f"`freshdesk.brands.{event.brand}` is fixed, then the backlog goes out in order.{when}"
        + (f"\n> {event.detail}" if event.detail else "")
    )
