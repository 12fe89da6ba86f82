"""Where a notification goes: which channel, which destination, and what it says.

Escalations go to the Slack channel of the level they reach, SLA warnings and hot topics
to the brand's warnings channel, spikes to its crisis channel, replies to the customer on
their platform.

Usage::

    note = escalation(event, config)  # Notification(channel="slack", destination="C0OBLEAD", ...)
    key = note.idempotency_key(event.event_id)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from socialdesk_notifier.domain.messages import (
    channel_health_message,
    escalation_message,
    reply_payload,
    spike_message,
    trend_message,
    warning_message,
)
from socialdesk_runtime.config import SlackPurpose, SocialdeskConfig
from socialdesk_schemas import (
    LADDER,
    ReplyRequested,
    SlaWarning,
    SpikeDetected,
    TicketEscalated,
    TrendDetected,
)
from socialdesk_schemas.platforms import ChannelHealthChanged

__all__ = [
    "Notification",
    "channel_for",
    "channel_health",
    "escalation",
    "reply",
    "sla_warning",
    "spike",
    "trend",
]

#: Every brand has an L3 channel (the configuration insists): the fallback of every purpose.
FALLBACK_PURPOSE: Final[SlackPurpose] = "L3"


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to deliver: over which channel, to whom, saying what."""

    channel: str
    destination: str
    payload: dict[str, Any]

    def idempotency_key(self, source_event_id: uuid.UUID) -> str:
        """One delivery per source event and destination, however often the event arrives
        (a Slack parent update is a second delivery of the event to that channel)."""
        op = self.payload.get("op")
        return f"{source_event_id}:{self.channel}:{self.destination}" + (f":{op}" if op else "")


def channel_for(channels: Mapping[SlackPurpose, str], purpose: SlackPurpose) -> str:
    """The Slack channel id for a level (or a purpose such as ``"warnings"``).

    An unconfigured level falls back to the nearest configured level *above* it, so a
    message is seen by someone with at least the authority it was meant for; beyond the
    top, or for a purpose, it falls back to the always-present L3 channel.
    """
    if purpose in channels:
        return channels[purpose]
    if purpose in LADDER:
        for higher in LADDER[LADDER.index(purpose) + 1 :]:
            if higher in channels:
                return channels[higher]
    return channels[FALLBACK_PURPOSE]


def _slack(
    config: SocialdeskConfig, brand: str, purpose: SlackPurpose, payload: dict[str, Any]
) -> Notification:
    return Notification("slack", channel_for(config.brand(brand).slack_channels, purpose), payload)


def escalation(event: TicketEscalated, config: SocialdeskConfig) -> Notification:
    return _slack(config, event.brand, event.to_level, escalation_message(event, config))


def sla_warning(event: SlaWarning, config: SocialdeskConfig) -> Notification:
    return _slack(config, event.brand, "warnings", warning_message(event, config))


def spike(event: SpikeDetected, config: SocialdeskConfig) -> Notification:
    return _slack(config, event.brand, "crisis", spike_message(event, config))


def trend(event: TrendDetected, config: SocialdeskConfig) -> Notification:
    return _slack(config, event.brand, "warnings", trend_message(event, config))


def channel_health(event: ChannelHealthChanged, config: SocialdeskConfig) -> Notification:
    return _slack(config, event.brand, "warnings", channel_health_message(event, config))


def reply(event: ReplyRequested) -> Notification:
    return Notification(event.platform, event.recipient_platform_user_id, reply_payload(event))
