"""Which channel and destination a notification goes to (no IO)."""

import uuid
from datetime import UTC, datetime

from socialdesk_notifier import domain
from socialdesk_notifier.domain import channel_for
from socialdesk_runtime.config import SlackPurpose
from socialdesk_schemas import (
    Level,
    ReplyRequested,
    SlaWarning,
    SpikeDetected,
    TicketEscalated,
    TrendDetected,
)
from tests.support import config_for_tests

NOW = datetime(2026, 1, 1, 9, tzinfo=UTC)
ENV = {
    "producer": "sla-monitor",
    "occurred_at": NOW,
    "ticket_id": uuid.uuid4(),
    "correlation_id": uuid.uuid4(),
}


def test_channel_for_falls_back_upward_then_to_l3() -> None:
    channels: dict[SlackPurpose, str] = {"L1": "C0OURBUSL1", "L3": "C0OURBUSL3", "L4": "C0OURBUSL4"}
    assert channel_for(channels, "L1") == "C0OURBUSL1"
    assert channel_for(channels, "L2") == "C0OURBUSL3"  # nearest configured level above
    assert channel_for(channels, "L4") == "C0OURBUSL4"
    assert channel_for(channels, "TMT") == "C0OURBUSL3"  # nothing above TMT: the L3 channel
    assert channel_for(channels, "warnings") == "C0OURBUSL3"


def escalated(level: Level) -> TicketEscalated:
    return TicketEscalated(
        **ENV,
        brand="ourbus",
        platform="x",
        priority="high",
        from_level="L1",
        to_level=level,
        to_agent_id=None,
        reason="breached",
    )


def test_escalations_go_to_the_channel_of_the_level_reached() -> None:
    config = config_for_tests()
    assert domain.escalation(escalated("L3"), config).destination == "C0OBLEAD"
    assert domain.escalation(escalated("L2"), config).destination == "C0OBLEAD"
    assert domain.escalation(escalated("TMT"), config).destination == "C0TMT"
    assert domain.escalation(escalated("L4"), config).channel == "slack"


def test_warnings_and_hot_topics_go_to_warnings_and_spikes_to_crisis_or_the_lead() -> None:
    config = config_for_tests()
    warning = SlaWarning(
        **ENV,
        brand="rally",
        platform="x",
        metric="first_response",
        priority="high",
        deadline=NOW,
        agent_id=None,
        remaining_seconds=60,
    )
    trend = TrendDetected(**ENV, brand="ourbus", group_id="g", volume=5, window_seconds=600)
    spike = {
        brand: SpikeDetected(
            **ENV,
            brand=brand,
            severity="major",
            volume=40,
            baseline_volume=4,
            negative_share=0.8,
            baseline_negative_share=0.2,
            window_seconds=600,
            score=5,
        )
        for brand in ("ourbus", "rally")
    }
    assert domain.sla_warning(warning, config).destination == "C0RAWARN"
    assert domain.trend(trend, config).destination == "C0OBWARN"
    assert domain.spike(spike["ourbus"], config).destination == "C0OBCRISIS"
    assert domain.spike(spike["rally"], config).destination == "C0RALEAD"  # no crisis channel


def test_a_reply_goes_to_the_customer_on_their_platform_once_per_source_event() -> None:
    event = ReplyRequested(
        **ENV,
        reply_id=uuid.uuid4(),
        brand="ourbus",
        platform="whatsapp",
        kind="dm",
        recipient_platform_user_id="447700900123",
        text="Your bus leaves at 9:15.",
        origin="agent",
        agent_id="ob-ana",
    )
    note = domain.reply(event)
    assert (note.channel, note.destination) == ("whatsapp", "447700900123")
    assert note.idempotency_key(event.event_id) == domain.reply(event).idempotency_key(event.event_id)
    assert note.idempotency_key(event.event_id) != note.idempotency_key(uuid.uuid4())
