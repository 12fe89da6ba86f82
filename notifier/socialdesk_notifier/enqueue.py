"""Consumer side: turn events into delivery rows (idempotent per source event and target).

Nothing is sent here: the batch transaction only records what must go out, so a Slack
outage never blocks the partition and a redelivered event adds no second row.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_notifier.tables import deliveries
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import (
    Event,
    ReplyRequested,
    SlaWarning,
    SpikeDetected,
    TicketEscalated,
    TrendDetected,
)

_PRIORITY_MARK = {
    "critical": ":rotating_light:",
    "high": ":warning:",
    "medium": ":large_blue_circle:",
    "low": ":white_circle:",
}


async def _enqueue(
    uow: UnitOfWork, event: Event, *, channel: str, destination: str, payload: dict[str, Any], now: Any
) -> None:
    await uow.conn.execute(
        pg_insert(deliveries)
        .values(
            id=uuid.uuid4(),
            idempotency_key=f"{event.event_id}:{channel}:{destination}",
            source_event_id=event.event_id,
            source_event_type=event.event_type,
            ticket_id=event.ticket_id,
            correlation_id=event.correlation_id,
            channel=channel,
            destination=destination,
            payload=payload,
            status="pending",
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escalation_message(event: TicketEscalated, config: SocialdeskConfig) -> dict[str, Any]:
    brand = config.brand(event.brand)
    who = ""
    if event.to_agent_id:
        agent = config.agent(event.to_agent_id)
        who = f"<@{agent.slack_user_id}>" if agent.slack_user_id else agent.name
    mark = _PRIORITY_MARK.get(event.priority, "")
    headline = f"{mark} Escalation to {event.to_level} {who}: {brand.name} {event.platform} ticket ({event.priority})"
    # The reason is free text: cut it, never the ticket id an agent needs to act.
    detail = f"Ticket `{event.ticket_id}`\n*{_cut(event.reason, 1500)}*"
    if event.deadline is not None:
        detail += f"\nDeadline was {event.deadline:%Y-%m-%d %H:%M:%S} UTC"
    return {
        "text": headline.strip(),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{headline.strip()}\n{detail}"[:3000]}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"brand: {brand.id} · platform: {event.platform} · level: {event.to_level}",
                    }
                ],
            },
        ],
    }


def warning_message(event: SlaWarning, config: SocialdeskConfig) -> dict[str, Any]:
    brand = config.brand(event.brand)
    owner = config.agent(event.agent_id).name if event.agent_id else "nobody (queued)"
    minutes = max(0.0, event.remaining_seconds) / 60
    text = (
        f":hourglass_flowing_sand: {brand.name} {event.platform} ticket ({event.priority}) has "
        f"{minutes:.0f} min left on its {event.metric.replace('_', ' ')} SLA; owner: {owner}"
    )
    return {
        "text": text,
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"{text}\nTicket `{event.ticket_id}`"[:3000]},
            },
        ],
    }


async def on_reply_requested(event: ReplyRequested, uow: UnitOfWork, *, clock: Clock) -> None:
    await _enqueue(
        uow,
        event,
        channel=event.platform,
        destination=event.recipient_platform_user_id,
        payload={
            "text": event.text,
            "kind": event.kind,
            "in_reply_to": event.in_reply_to_platform_message_id,
            "brand": event.brand,
            "reply_id": str(event.reply_id),
        },
        now=clock.now(),
    )


_SEVERITY_MARK = {"minor": ":eyes:", "major": ":warning:", "critical": ":rotating_light:"}


def spike_message(event: SpikeDetected, config: SocialdeskConfig) -> dict[str, Any]:
    brand = config.brand(event.brand)
    text = (
        f"{_SEVERITY_MARK.get(event.severity, '')} Possible crisis ({event.severity}) for {brand.name}: "
        f"{event.volume} posts in {event.window_seconds // 60} min (usual {event.baseline_volume:.1f}), "
        f"{event.negative_share:.0%} negative (usual {event.baseline_negative_share:.0%})"
    )
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]}


def trend_message(event: TrendDetected, config: SocialdeskConfig) -> dict[str, Any]:
    brand = config.brand(event.brand)
    sample = f"\n> {_cut(event.sample_text, 300)}" if event.sample_text else ""
    text = (
        f":chart_with_upwards_trend: Hot topic for {brand.name}: {event.volume} similar posts in "
        f"{max(1, event.window_seconds // 60)} min (group `{event.group_id}`); answer them one-to-many, "
        f"their SLA is tightened.{sample}"
    )
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]}


SlackEvent = TicketEscalated | SlaWarning | SpikeDetected | TrendDetected


def slack_route(event: SlackEvent, config: SocialdeskConfig) -> tuple[str, dict[str, Any]]:
    """Which channel of the brand an event goes to, and what it says there."""
    brand = config.brand(event.brand)
    if isinstance(event, TicketEscalated):
        return brand.channel_for(event.to_level), escalation_message(event, config)
    if isinstance(event, SlaWarning):
        return brand.channel_for("warnings"), warning_message(event, config)
    if isinstance(event, SpikeDetected):
        return brand.channel_for("crisis"), spike_message(event, config)
    return brand.channel_for("warnings"), trend_message(event, config)


async def on_slack_event(
    event: SlackEvent, uow: UnitOfWork, *, config: SocialdeskConfig, clock: Clock
) -> None:
    """Escalations to the level's channel, warnings and hot topics to the brand's warnings
    channel, spikes to its crisis channel."""
    channel_id, payload = slack_route(event, config)
    await _enqueue(uow, event, channel="slack", destination=channel_id, payload=payload, now=clock.now())
