"""What the notifier's messages say, within Slack's limits (no IO)."""

import uuid
from datetime import UTC, datetime

from socialdesk_notifier.domain.messages import (
    escalation_message,
    reply_payload,
    spike_message,
    trend_message,
    warning_message,
)
from socialdesk_schemas import ReplyRequested, SlaWarning, SpikeDetected, TicketEscalated, TrendDetected
from tests.support import config_for_tests

NOW = datetime(2026, 1, 1, 9, tzinfo=UTC)
ENV = {
    "producer": "sla-monitor",
    "occurred_at": NOW,
    "ticket_id": uuid.uuid4(),
    "correlation_id": uuid.uuid4(),
}


def test_escalation_mentions_the_lead_and_fits_block_kit_limits() -> None:
    event = TicketEscalated(
        **ENV,
        brand="ourbus",
        platform="instagram",
        priority="critical",
        from_level="L1",
        to_level="L3",
        to_agent_id="ob-lead",
        reason="first_response SLA breached " + "x" * 5000,
        deadline=NOW,
    )
    message = escalation_message(event, config_for_tests())
    assert "<@U0FARAH>" in message["text"]
    assert "OurBus" in message["text"]
    assert str(event.ticket_id) in message["blocks"][0]["text"]["text"]
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in message["blocks"])


def test_escalation_names_an_agent_without_a_slack_user_by_name() -> None:
    event = TicketEscalated(
        **ENV,
        brand="ourbus",
        platform="x",
        priority="high",
        from_level="L3",
        to_level="L4",
        to_agent_id="ob-mgr",
        reason="resolution SLA breached",
    )
    text = escalation_message(event, config_for_tests())["text"]
    assert "Escalation to L4 Gabe" in text
    assert "Deadline" not in escalation_message(event, config_for_tests())["blocks"][0]["text"]["text"]


def test_warning_names_the_owner_and_the_time_left() -> None:
    event = SlaWarning(
        **ENV,
        brand="rally",
        platform="x",
        metric="first_response",
        priority="high",
        deadline=NOW,
        agent_id="ra-hugo",
        remaining_seconds=1800,
    )
    text = warning_message(event, config_for_tests())["text"]
    assert "Hugo" in text
    assert "30 min" in text


def test_spike_message_compares_with_the_baseline() -> None:
    event = SpikeDetected(
        **ENV,
        brand="ourbus",
        severity="critical",
        volume=42,
        baseline_volume=3.5,
        negative_share=0.9,
        baseline_negative_share=0.2,
        window_seconds=600,
        score=9.1,
    )
    text = spike_message(event, config_for_tests())["text"]
    assert "42 posts in 10 min" in text
    assert "usual 3.5" in text
    assert "90% negative" in text


def test_trend_message_quotes_a_cut_sample() -> None:
    event = TrendDetected(
        **ENV, brand="rally", group_id="g-7", volume=12, window_seconds=30, sample_text="y" * 1000
    )
    text = trend_message(event, config_for_tests())["text"]
    assert "12 similar posts in 1 min (group `g-7`)" in text
    assert "y" * 299 + "…" in text
    assert "y" * 300 not in text


def test_reply_payload_keeps_what_a_platform_send_needs() -> None:
    event = ReplyRequested(
        **ENV,
        reply_id=uuid.uuid4(),
        brand="ourbus",
        platform="instagram",
        kind="comment",
        recipient_platform_user_id="1789",
        in_reply_to_platform_message_id="m-1",
        text="Thanks, we are on it.",
        origin="auto_reply",
    )
    assert reply_payload(event) == {
        "text": "Thanks, we are on it.",
        "kind": "comment",
        "in_reply_to": "m-1",
        "brand": "ourbus",
        "reply_id": str(event.reply_id),
    }
