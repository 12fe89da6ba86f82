"""Where each notification goes and what it says, within Slack's limits (no IO)."""

import uuid
from datetime import UTC, datetime
from typing import Any

from socialdesk_notifier import domain
from socialdesk_notifier.domain import channel_for
from socialdesk_notifier.domain.messages import (
    escalation_message,
    reply_payload,
    spike_message,
    trend_message,
    warning_message,
)
from socialdesk_runtime.config import SlackPurpose
from socialdesk_schemas import ReplyRequested, SlaWarning, SpikeDetected, TicketEscalated, TrendDetected
from tests.support import config_for_tests

NOW = datetime(2026, 1, 1, 9, tzinfo=UTC)
CONFIG = config_for_tests()


def _envelope() -> dict[str, Any]:
    return {"producer": "test", "occurred_at": NOW, "ticket_id": uuid.uuid4(), "correlation_id": uuid.uuid4()}


def escalated(**over: Any) -> TicketEscalated:
    fields: dict[str, Any] = {
        "brand": "ourbus",
        "platform": "x",
        "priority": "high",
        "from_level": "L1",
        "to_level": "L3",
    }
    fields |= {"to_agent_id": None, "reason": "breached"}
    return TicketEscalated.model_validate(_envelope() | fields | over)


def warning(**over: Any) -> SlaWarning:
    fields: dict[str, Any] = {
        "brand": "rally",
        "platform": "x",
        "metric": "first_response",
        "priority": "high",
    }
    fields |= {"deadline": NOW, "agent_id": None, "remaining_seconds": 60}
    return SlaWarning.model_validate(_envelope() | fields | over)


def spike(**over: Any) -> SpikeDetected:
    fields: dict[str, Any] = {
        "brand": "ourbus",
        "severity": "major",
        "volume": 40,
        "baseline_volume": 4,
        "score": 5,
    }
    fields |= {"negative_share": 0.8, "baseline_negative_share": 0.2, "window_seconds": 600}
    return SpikeDetected.model_validate(_envelope() | fields | over)


def trend(**over: Any) -> TrendDetected:
    fields: dict[str, Any] = {"brand": "ourbus", "group_id": "g", "volume": 5, "window_seconds": 600}
    return TrendDetected.model_validate(_envelope() | fields | over)


def reply(**over: Any) -> ReplyRequested:
    fields: dict[str, Any] = {
        "reply_id": uuid.uuid4(),
        "brand": "ourbus",
        "platform": "whatsapp",
        "kind": "dm",
    }
    fields |= {"recipient_platform_user_id": "447700900123", "text": "Your bus leaves at 9:15."}
    return ReplyRequested.model_validate(_envelope() | fields | {"origin": "agent"} | over)


# --- routing ------------------------------------------------------------------------------


def test_channel_for_falls_back_upward_then_to_l3() -> None:
    channels: dict[SlackPurpose, str] = {"L1": "C0OURBUSL1", "L3": "C0OURBUSL3", "L4": "C0OURBUSL4"}
    assert channel_for(channels, "L1") == "C0OURBUSL1"
    assert channel_for(channels, "L2") == "C0OURBUSL3"  # nearest configured level above
    assert channel_for(channels, "L4") == "C0OURBUSL4"
    assert channel_for(channels, "TMT") == "C0OURBUSL3"  # nothing above TMT: the L3 channel
    assert channel_for(channels, "warnings") == "C0OURBUSL3"


def test_escalations_go_to_the_slack_channel_of_the_level_reached() -> None:
    assert domain.escalation(escalated(to_level="L3"), CONFIG).destination == "C0OBLEAD"
    assert domain.escalation(escalated(to_level="L2"), CONFIG).destination == "C0OBLEAD"
    assert domain.escalation(escalated(to_level="TMT"), CONFIG).destination == "C0TMT"
    assert domain.escalation(escalated(to_level="L4"), CONFIG).channel == "slack"


def test_warnings_and_hot_topics_go_to_warnings_and_spikes_to_crisis_or_the_lead() -> None:
    assert domain.sla_warning(warning(), CONFIG).destination == "C0RAWARN"
    assert domain.trend(trend(), CONFIG).destination == "C0OBWARN"
    assert domain.spike(spike(), CONFIG).destination == "C0OBCRISIS"
    assert domain.spike(spike(brand="rally"), CONFIG).destination == "C0RALEAD"  # no crisis channel


def test_a_reply_goes_to_the_customer_on_their_platform_once_per_source_event() -> None:
    event = reply()
    note = domain.reply(event)
    assert (note.channel, note.destination) == ("whatsapp", "447700900123")
    assert note.idempotency_key(event.event_id) == domain.reply(event).idempotency_key(event.event_id)
    assert note.idempotency_key(event.event_id) != note.idempotency_key(uuid.uuid4())


# --- messages -----------------------------------------------------------------------------


def test_escalation_mentions_the_lead_and_fits_block_kit_limits() -> None:
    event = escalated(
        platform="instagram",
        priority="critical",
        to_agent_id="ob-lead",
        reason="first_response SLA breached " + "x" * 5000,
        deadline=NOW,
    )
    message = escalation_message(event, CONFIG)
    assert "<@U0FARAH>" in message["text"]
    assert "OurBus" in message["text"]
    assert str(event.ticket_id) in message["blocks"][0]["text"]["text"]
    assert "Deadline was 2026-01-01 09:00:00 UTC" in message["blocks"][0]["text"]["text"]
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in message["blocks"])


def test_escalation_names_an_agent_without_a_slack_user_by_name() -> None:
    message = escalation_message(escalated(to_level="L4", to_agent_id="ob-mgr"), CONFIG)
    assert "Escalation to L4 <@U0GABE>" in message["text"]
    assert "Deadline" not in message["blocks"][0]["text"]["text"]


def test_warning_names_the_owner_and_the_time_left() -> None:
    text = warning_message(warning(agent_id="ra-hugo", remaining_seconds=1800), CONFIG)["text"]
    assert "Hugo" in text
    assert "30 min" in text
    assert "owner: nobody (queued)" in warning_message(warning(), CONFIG)["text"]


def test_spike_message_compares_with_the_baseline() -> None:
    event = spike(severity="critical", volume=42, baseline_volume=3.5, negative_share=0.9)
    text = spike_message(event, CONFIG)["text"]
    assert "42 posts in 10 min" in text
    assert "usual 3.5" in text
    assert "90% negative" in text


def test_trend_message_quotes_a_cut_sample() -> None:
    text = trend_message(trend(group_id="g-7", volume=12, window_seconds=30, sample_text="y" * 1000), CONFIG)
    assert "12 similar posts in 1 min (group `g-7`)" in text["text"]
    assert "y" * 299 + "…" in text["text"]
    assert "y" * 300 not in text["text"]


def test_reply_payload_keeps_what_a_platform_send_needs() -> None:
    event = reply(platform="instagram", kind="comment", in_reply_to_platform_message_id="m-1")
    assert reply_payload(event) == {
        "text": "Your bus leaves at 9:15.",
        "kind": "comment",
        "in_reply_to": "m-1",
        "brand": "ourbus",
        "reply_id": str(event.reply_id),
        "origin": event.origin,
    }


def test_channel_health_goes_to_the_brand_warnings_channel_and_says_what_to_do() -> None:
    from socialdesk_schemas.platforms import ChannelHealthChanged

    fields = {"brand": "ourbus", "platform": "instagram", "account_id": "17841400000000001"}
    down = ChannelHealthChanged.model_validate(
        _envelope() | fields | {"healthy": False, "problem": "permission_missing"}
    )
    note = domain.channel_health(down, CONFIG)
    assert note.destination == "C0OBWARN"
    assert "a permission is missing" in note.payload["text"]
    assert "re-drive" in note.payload["text"]
    up = ChannelHealthChanged.model_validate(_envelope() | fields | {"healthy": True})
    assert "works again" in domain.channel_health(up, CONFIG).payload["text"]
