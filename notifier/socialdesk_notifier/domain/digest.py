"""A flood of alerts for one Slack channel collapses into one digest (issue 11 item 2).

Pure rules, no I/O; the caller passes the alerts waiting for a channel and the time.

Usage::

    plan = collapse(pending, now=now, threshold=5, shown=5)
    if plan.digest_text is not None:
        post(plan.digest_text)  # instead of len(plan.collapsed) separate messages
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["DigestPlan", "PendingAlert", "collapse"]


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """One alert waiting to be posted to a channel."""

    key: str  # the delivery's idempotency key
    kind: str  # "breach", "warning", "escalation", ...
    ticket_id: str
    brand_name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """Either post every alert alone (digest_text None) or one digest for ``collapsed``."""

    separate: tuple[PendingAlert, ...]
    collapsed: tuple[PendingAlert, ...]
    digest_text: str | None


def _plural(kind: str, count: int) -> str:
    if count == 1:
        return kind
    return kind + ("es" if kind.endswith(("ch", "sh", "s", "x")) else "s")


def collapse(
    pending: Sequence[PendingAlert],
    *,
    now: datetime,
    threshold: int,
    shown: int = 5,
    window: timedelta = timedelta(minutes=1),
) -> DigestPlan:
    """Collapse the alerts of one kind within ``window`` into a digest once more than ``threshold``.

    Alerts of a kind at or under the threshold, and alerts older than the window, stay separate.
    """
    if threshold < 1 or shown < 0:
        raise ValueError("threshold must be >= 1 and shown >= 0")
    recent = [a for a in pending if now - a.created_at <= window]
    by_kind: dict[str, list[PendingAlert]] = {}
    for alert in recent:
        by_kind.setdefault(alert.kind, []).append(alert)
    flooded = {kind: alerts for kind, alerts in by_kind.items() if len(alerts) > threshold}
    if not flooded:
        return DigestPlan(separate=tuple(pending), collapsed=(), digest_text=None)
    collapsed_keys = {a.key for alerts in flooded.values() for a in alerts}
    lines: list[str] = []
    minutes = window.total_seconds() / 60
    span = "the last minute" if minutes == 1 else f"the last {minutes:g} minutes"
    for kind in sorted(flooded):
        alerts = sorted(flooded[kind], key=lambda a: (a.created_at, a.ticket_id))
        head = f"*{len(alerts)} {_plural(kind, len(alerts))} in {span}*"
        if shown:
            oldest = alerts[:shown]
            head += f"; the {len(oldest)} oldest:"
            lines.append(head)
            lines.extend(
                f"• {a.brand_name} ticket `{a.ticket_id}` ({a.created_at:%H:%M:%S} UTC)" for a in oldest
            )
        else:
            lines.append(head)
    return DigestPlan(
        separate=tuple(a for a in pending if a.key not in collapsed_keys),
        collapsed=tuple(a for a in pending if a.key in collapsed_keys),
        digest_text="\n".join(lines),
    )
