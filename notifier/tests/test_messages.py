"""What the notifier writes and how it backs off (no IO)."""

import uuid
from datetime import UTC, datetime

from socialdesk_notifier.enqueue import escalation_message, spike_message, warning_message
from socialdesk_notifier.worker import backoff_seconds
from socialdesk_schemas import SlaWarning, SpikeDetected, TicketEscalated
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


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff_seconds(50) == 300


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
