"""Slack rules (issue 11): ticket cards, the thread decision, error classes, crisis contacts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_notifier.domain.cards import TicketContext, parent_card, ticket_message, time_left
from socialdesk_notifier.domain.slack_errors import classify_slack_error
from socialdesk_notifier.domain.threads import Parent, Posted, Reply, ThreadRow, Wait, thread_step
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.config.crisis import CrisisSettings
from tests.support import config_for_tests

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
URL = "http://desk.example"


@pytest.fixture(scope="module")
def config() -> SocialdeskConfig:
    return config_for_tests()


def ctx(**over: object) -> TicketContext:
    fields: dict[str, object] = {
        "ticket_id": uuid.UUID(int=7),
        "brand": "ourbus",
        "platform": "x",
        "handle": "@samo",
        "excerpt": "x" * 5000,
        "category": "complaint",
        "priority": "high",
        "owner_agent_id": "ob-lead",
        "level": "L3",
        "deadline": NOW - timedelta(minutes=12),
    }
    fields.update(over)
    return TicketContext(**fields)  # type: ignore[arg-type]


def test_a_ticket_message_stays_within_block_kit_limits_and_has_a_fallback(config: SocialdeskConfig) -> None:
    message = ticket_message("Breach", ctx(), config=config, now=NOW, desk_url=URL, kind="breach")
    assert message["text"] == "Breach (12 min overdue)"
    section = message["blocks"][0]["text"]["text"]
    assert len(section) <= 3000 and f"{URL}/desk/tickets/{uuid.UUID(int=7)}" in section
    assert len(message["blocks"][1]["fields"]) <= 10
    assert message["blocks"][-1]["type"] == "actions"


def test_a_resolved_parent_has_no_buttons_and_says_so(config: SocialdeskConfig) -> None:
    card = parent_card(ctx(state="resolved"), config=config, now=NOW, desk_url=URL, kind="breach")
    assert "Resolved" in card["text"] and all(b["type"] != "actions" for b in card["blocks"])
    claimed = parent_card(ctx(claimed_by="ob-lead"), config=config, now=NOW, desk_url=URL, kind="marketing")
    assert "Taken by <@U0FARAH>" in claimed["text"] and all(b["type"] != "actions" for b in claimed["blocks"])


def test_time_left_or_overdue() -> None:
    assert time_left(NOW + timedelta(seconds=30), NOW) == "30 s left"
    assert time_left(NOW - timedelta(hours=3), NOW) == "3.0 h overdue"
    assert time_left(None, NOW) is None


def test_thread_steps() -> None:
    me, other = uuid.uuid4(), uuid.uuid4()
    assert thread_step(None, me) == Parent()
    assert thread_step(ThreadRow(other, "1.1", "sent"), me) == Reply("1.1")
    assert thread_step(ThreadRow(me, "1.1", "sending"), me) == Posted("1.1")
    assert thread_step(ThreadRow(other, None, "sending"), me) == Wait()
    assert thread_step(ThreadRow(other, None, "failed"), me) == Parent(take_over=True)
    assert thread_step(ThreadRow(other, None, "digested"), me) == Parent(take_over=True)


@pytest.mark.parametrize(
    ("error", "status", "verdict"),
    [
        ("channel_not_found", 200, "permanent"),
        ("invalid_auth", 200, "permanent"),
        ("something_new", 200, "permanent"),
        ("ratelimited", 429, "throttled"),
        ("internal_error", 200, "transient"),
        ("fatal_error", 200, "transient"),
        ("service_unavailable", 503, "transient"),
    ],
)
def test_slack_errors_are_classified(error: str, status: int, verdict: str) -> None:
    assert classify_slack_error(error, status=status) == verdict


def test_crisis_contacts_fall_back_to_the_next_lower_severity() -> None:
    crisis = CrisisSettings.model_validate({"contacts": {"ourbus": {"major": ["U0FARAH"]}}})
    assert crisis.contacts_for("ourbus", "critical") == ["U0FARAH"]
    assert crisis.contacts_for("ourbus", "minor") == []
    assert crisis.contacts_for("rally", "major") == []
