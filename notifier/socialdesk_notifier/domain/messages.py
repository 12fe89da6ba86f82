"""What a notification says: Slack texts and Block Kit blocks, within Slack's limits.

Usage::

    payload = escalation_message(event, config)  # {"text": ..., "blocks": [...]}
"""

from __future__ import annotations

from typing import Any

from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_schemas import ReplyRequested, SlaWarning, SpikeDetected, TicketEscalated, TrendDetected
from socialdesk_schemas.platforms import ChannelHealthChanged

__all__ = [
    "channel_health_message",
    "escalation_message",
    "reply_payload",
    "spike_message",
    "trend_message",
    "warning_message",
]

# Slack refuses a section text over 3000 characters (invalid_blocks).
SECTION_LIMIT = 3000

_PRIORITY_MARK = {
    "critical": ":rotating_light:",
    "high": ":warning:",
    "medium": ":large_blue_circle:",
    "low": ":white_circle:",
}
_SEVERITY_MARK = {"minor": ":eyes:", "major": ":warning:", "critical": ":rotating_light:"}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def _simple(text: str) -> dict[str, Any]:
    return {"text": text, "blocks": [_section(text)]}


def escalation_message(event: TicketEscalated, config: SocialdeskConfig) -> dict[str, Any]:
    brand = config.brand(event.brand)
    who = ""
    if event.to_agent_id:
        agent = config.agent(event.to_agent_id)
        who = f"<@{agent.slack_user_id}>" if agent.slack_user_id else agent.name
    mark = _PRIORITY_MARK.get(event.priority, "")
    headline = (
        f"{mark} Escalation to {event.to_level} {who}: {brand.name} {event.platform} ticket ({event.priority})"
    ).strip()
    # The reason is free text: cut it, never the ticket id an agent needs to act.
    detail = f"Ticket `{event.ticket_id}`\n*{_cut(event.reason, 1500)}*"
    if event.deadline is not None:
        detail += f"\nDeadline was {event.deadline:%Y-%m-%d %H:%M:%S} UTC"
    context = f"brand: {brand.id} · platform: {event.platform} · level: {event.to_level}"
    return {
        "text": headline,
        "blocks": [
            _section(f"{headline}\n{detail}"),
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
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
    return {"text": text, "blocks": [_section(f"{text}\nTicket `{event.ticket_id}`")]}


def spike_message(event: SpikeDetected, config: SocialdeskConfig) -> dict[str, Any]:
    brand = config.brand(event.brand)
    return _simple(
        f"{_SEVERITY_MARK.get(event.severity, '')} Possible crisis ({event.severity}) for {brand.name}: "
        f"{event.volume} posts in {event.window_seconds // 60} min (usual {event.baseline_volume:.1f}), "
        f"{event.negative_share:.0%} negative (usual {event.baseline_negative_share:.0%})"
    )


def trend_message(event: TrendDetected, config: SocialdeskConfig) -> dict[str, Any]:
    brand = config.brand(event.brand)
    sample = f"\n> {_cut(event.sample_text, 300)}" if event.sample_text else ""
    return _simple(
        f":chart_with_upwards_trend: Hot topic for {brand.name}: {event.volume} similar posts in "
        f"{max(1, event.window_seconds // 60)} min (group `{event.group_id}`); answer them one-to-many, "
        f"their SLA is tightened.{sample}"
    )


_PROBLEMS = {
    "token_expired": "its access token expired",
    "permission_missing": "a permission is missing",
    "token_missing": "no access token is set",
}


def channel_health_message(event: ChannelHealthChanged, config: SocialdeskConfig) -> dict[str, Any]:
    """The brand's warning when one of its platform accounts stops (or starts again)."""
    brand = config.brand(event.brand)
    where = f"{brand.name} {event.platform} account `{event.account_id}`"
    if event.healthy:
        return _simple(f":white_check_mark: {where} works again: messages and replies flow.")
    problem = _PROBLEMS.get(event.problem or "", "it refuses our calls")
    code = f" (code {event.error_code})" if event.error_code is not None else ""
    detail = f"\n> {_cut(event.detail, 300)}" if event.detail else ""
    return _simple(
        f":no_entry: {where}: {problem}{code}. Customers' messages on it are not read and replies "
        f"to them fail until it is fixed; then re-drive the failed replies.{detail}"
    )


def reply_payload(event: ReplyRequested) -> dict[str, Any]:
    """A reply to a customer, as its platform's send API will need it."""
    return {
        "text": event.text,
        "kind": event.kind,
        "in_reply_to": event.in_reply_to_platform_message_id,
        "brand": event.brand,
        "reply_id": str(event.reply_id),
        "origin": event.origin,
    }
