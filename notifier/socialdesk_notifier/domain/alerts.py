"""Which Slack messages a ticket event asks for (issue 11), as pure rules.

Each function takes the event, what the notifier knows of the ticket (``TicketContext``),
the configuration, ``now`` and the desk's base URL, and returns notifications: the
message to the channel the event pages (a thread reply when the ticket already has a
thread there, decided at send time), plus for a ticket event, a short reply and a parent
update in every other channel where the ticket already has a thread.

Usage::

    notes = escalation_alerts(event, ctx, threads=["C0OBLEAD"], config=config, now=now, desk_url=url)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from socialdesk_notifier.domain.cards import (
    CLAIM,
    TicketContext,
    agent_label,
    cut,
    oneline,
    ticket_message,
)
from socialdesk_notifier.domain.routing import Notification, channel_for
from socialdesk_runtime.config import SlackPurpose, SocialdeskConfig
from socialdesk_schemas import SlaWarning, SpikeDetected, TicketEscalated
from socialdesk_schemas.sla import FollowUpDue

__all__ = [
    "UPDATE",
    "crisis_page",
    "escalation_alerts",
    "followup_alerts",
    "marketing_alert",
    "parent_update",
    "safety_alerts",
    "state_change",
    "warning_alerts",
]

#: The payload op of a delivery that re-renders a thread parent instead of posting.
UPDATE = "update"

_MARK = {"critical": ":rotating_light:", "high": ":warning:", "medium": ":large_blue_circle:", "low": ""}


def _channel(config: SocialdeskConfig, brand: str, purpose: SlackPurpose) -> str:
    return channel_for(config.brand(brand).slack_channels, purpose)


def _brand_name(config: SocialdeskConfig, brand: str) -> str:
    return config.brand(brand).name


#: A short line in a ticket's thread.
NOTE = "thread update"


def _note(line: str, ctx: TicketContext) -> dict[str, Any]:
    return {"text": line, "kind": NOTE, "brand": ctx.brand, "ticket_id": str(ctx.ticket_id), "threaded": True}


def parent_update(
    channel: str, ctx: TicketContext, kind: str = "ticket", *, urgent: bool = False
) -> Notification:
    """Re-render the ticket's parent in ``channel`` from its state when the delivery is sent.

    ``urgent`` (a person just pressed a button) skips the queue of routine updates: the
    person is looking at the message and expects it to show what they did.
    """
    payload: dict[str, Any] = {"op": UPDATE, "ticket_id": str(ctx.ticket_id), "kind": kind, "text": "update"}
    if urgent:
        payload["urgent"] = True
    return Notification("slack", channel, payload)


def _elsewhere(paged: str, threads: Sequence[str], ctx: TicketContext, line: str) -> list[Notification]:
    """A short reply and a parent update in every other channel that follows the ticket."""
    out: list[Notification] = []
    for channel in threads:
        if channel == paged:
            continue
        out.append(
            Notification(
                "slack",
                channel,
                _note(line, ctx),
            )
        )
        out.append(parent_update(channel, ctx))
    return out


def escalation_alerts(
    event: TicketEscalated,
    ctx: TicketContext,
    *,
    threads: Sequence[str],
    config: SocialdeskConfig,
    now: datetime,
    desk_url: str,
) -> list[Notification]:
    """A breach (the first rung) or a climb: a message in the level's channel, with buttons."""
    channel = _channel(config, event.brand, event.to_level)
    who = agent_label(config, event.to_agent_id) if event.to_agent_id else ""
    breach = event.reason.endswith("SLA breached")
    what = "SLA breached" if breach else "still unanswered"
    headline = (
        f"{_MARK.get(event.priority, '')} Escalation to {event.to_level} {who}".strip()
        + f": {_brand_name(config, event.brand)} {event.platform} ticket ({event.priority}), {what}"
    )
    headline += f"\n*{oneline(event.reason, 500)}*"
    kind = "breach" if breach else "escalation"
    message = ticket_message(headline, ctx, config=config, now=now, desk_url=desk_url, kind=kind)
    notes = [Notification("slack", channel, message)]
    if channel in threads:
        notes.append(parent_update(channel, ctx))
    line = f":arrow_up: Escalated to {event.to_level} ({oneline(event.reason, 200)})"
    return notes + _elsewhere(channel, threads, ctx, line)


def warning_alerts(
    event: SlaWarning,
    ctx: TicketContext,
    *,
    threads: Sequence[str],
    config: SocialdeskConfig,
    now: datetime,
    desk_url: str,
) -> list[Notification]:
    channel = _channel(config, event.brand, "warnings")
    minutes = max(0.0, event.remaining_seconds) / 60
    headline = (
        f":hourglass_flowing_sand: {_brand_name(config, event.brand)} {event.platform} ticket "
        f"({event.priority}) has {minutes:.0f} min left on its {event.metric.replace('_', ' ')} SLA; "
        f"owner: {agent_label(config, event.agent_id)}"
    )
    message = ticket_message(headline, ctx, config=config, now=now, desk_url=desk_url, kind="warning")
    return [Notification("slack", channel, message)]


def followup_alerts(
    event: FollowUpDue,
    ctx: TicketContext,
    *,
    config: SocialdeskConfig,
    now: datetime,
    desk_url: str,
) -> list[Notification]:
    """A promised follow-up is due: the owner is reminded in the warnings channel."""
    channel = _channel(config, event.brand, "warnings")
    owner = agent_label(config, event.agent_id or ctx.owner_agent_id)
    headline = (
        f":alarm_clock: {owner}: the follow-up you promised at {event.promised_at:%H:%M} UTC on this "
        f"{_brand_name(config, event.brand)} {event.platform} ticket is due ({event.due_at:%H:%M} UTC)"
    )
    message = ticket_message(headline, ctx, config=config, now=now, desk_url=desk_url, kind="followup")
    return [Notification("slack", channel, message)]


def marketing_alert(
    ctx: TicketContext, *, config: SocialdeskConfig, now: datetime, desk_url: str
) -> Notification:
    """A post routed to marketing, to the brand's marketing channel with a Claim button."""
    channel = _channel(config, ctx.brand, "marketing")
    headline = (
        f":loudspeaker: For marketing: a {_brand_name(config, ctx.brand)} {ctx.platform or ''} post "
        f"({ctx.category or 'unclassified'}). Claim it to answer it."
    )
    message = ticket_message(
        headline, ctx, config=config, now=now, desk_url=desk_url, kind="marketing", actions=(CLAIM,)
    )
    return Notification("slack", channel, message)


def _mentions(config: SocialdeskConfig, brand: str, severity: str) -> str:
    people = config.crisis.contacts_for(brand, severity)
    return " ".join(f"<@{p}>" for p in people)


def crisis_page(event: SpikeDetected, config: SocialdeskConfig) -> Notification:
    """A spike pages the crisis channel, mentioning the contacts of its severity."""
    brand = _brand_name(config, event.brand)
    mark = {"minor": ":eyes:", "major": ":warning:", "critical": ":rotating_light:"}[event.severity]
    text = (
        f"{mark} Possible crisis ({event.severity}) for {brand}: {event.volume} posts in "
        f"{max(1, event.window_seconds // 60)} min (usual {event.baseline_volume:.1f}), "
        f"{event.negative_share:.0%} negative (usual {event.baseline_negative_share:.0%})"
    )
    mentions = _mentions(config, event.brand, event.severity)
    if mentions:
        text = f"{mentions} {text}"
    payload: dict[str, Any] = {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": cut(text, 3000)}}],
        "kind": "crisis",
    }
    return Notification("slack", _channel(config, event.brand, "crisis"), payload)


def safety_alerts(
    ctx: TicketContext, *, config: SocialdeskConfig, now: datetime, desk_url: str
) -> list[Notification]:
    """A safety report pages the crisis channel (severity major; critical priority: critical)."""
    severity = "critical" if ctx.priority == "critical" else "major"
    mentions = _mentions(config, ctx.brand, severity)
    headline = (
        f":sos: Safety report ({severity}) on {_brand_name(config, ctx.brand)} {ctx.platform or ''}"
        f"{': ' + mentions if mentions else ''}"
    )
    message = ticket_message(headline, ctx, config=config, now=now, desk_url=desk_url, kind="safety")
    return [Notification("slack", _channel(config, ctx.brand, "crisis"), message)]


def state_change(
    ctx: TicketContext, line: str | None, *, threads: Sequence[str], urgent: bool = False
) -> list[Notification]:
    """The ticket changed (answered, resolved, reassigned, acknowledged): every parent is
    re-rendered, and with ``line`` a short reply says what happened."""
    out: list[Notification] = []
    for channel in threads:
        if line:
            out.append(Notification("slack", channel, _note(line, ctx)))
        out.append(parent_update(channel, ctx, urgent=urgent))
    return out
