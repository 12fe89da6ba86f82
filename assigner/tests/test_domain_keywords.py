"""Keyword rules, whether the customer's words come before routing or after (plain data)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from socialdesk_assigner.domain import Rotation, Ticket, route
from socialdesk_assigner.domain.keywords import matching_rules, raised_priority
from socialdesk_assigner.domain.rerouting import late_words
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_schemas import MessageClassified, TicketAssigned
from socialdesk_schemas.desk import TicketPriorityRaised

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TicketFactory = Callable[..., Ticket]
MessageFactory = Callable[..., MessageClassified]


@pytest.fixture
def worded(config: SocialdeskConfig) -> SocialdeskConfig:
    data: dict[str, Any] = config.model_dump(mode="json", exclude_none=True)
    for agent in data["agents"]:
        if agent["id"] == "dee":
            agent["skills"] = ["refunds"]
    data["routing"] = {
        "keyword_rules": [
            {"keywords": ["refund", "Money Back"], "skill": "refunds"},
            {"keywords": ["stranded"], "priority": "critical"},
            {"keywords": ["lawyer"], "level": "L3", "priority": "high"},
        ]
    }
    return SocialdeskConfig.model_validate(data)


def rotation(config: SocialdeskConfig, **load: int) -> Rotation:
    return Rotation(config, load=dict(load), last_owner={}, cursor={}, online=None)


def test_rules_match_words_case_insensitively_and_only_raise_priority(worded: SocialdeskConfig) -> None:
    assert [r.skill for r in matching_rules(worded, "I want my MONEY BACK")] == ["refunds"]
    assert matching_rules(worded, "") == []
    assert raised_priority(worded, "left stranded at the stop", "low") == "critical"
    assert raised_priority(worded, "my lawyer will call", "critical") == "critical"
    assert raised_priority(worded, "nothing special", "medium") == "medium"


def test_routing_with_the_words_first_raises_priority_and_picks_the_skill(
    worded: SocialdeskConfig, message: MessageFactory
) -> None:
    m = message(priority="low")
    step = route(
        None, m, rotation=rotation(worded), config=worded, now=NOW, texts={m.message_id: "stranded, refund?"}
    )
    (event,) = step.events
    assert isinstance(event, TicketAssigned)
    assert (event.agent_id, event.priority, step.ticket.priority) == ("dee", "critical", "critical")


def test_words_after_routing_move_an_unanswered_ticket_to_the_skill(
    worded: SocialdeskConfig, ticket: TicketFactory
) -> None:
    held = ticket(status="assigned", agent_id="ana", priority="low")
    spin = rotation(worded, ana=1)
    step = late_words(held, "stranded and I want a refund", rotation=spin, config=worded, now=NOW)
    assert step is not None
    assert (step.ticket.agent_id, step.ticket.priority, step.transition) == (
        "dee",
        "critical",
        "keyword_reroute",
    )
    raised, event = step.events
    assert isinstance(raised, TicketPriorityRaised)
    assert (raised.previous_priority, raised.priority) == ("low", "critical")
    assert isinstance(event, TicketAssigned)
    assert (event.reason, event.previous_agent_id, event.priority) == ("reassigned", "ana", "critical")
    assert spin.load == {"ana": 0, "dee": 1}


def test_words_after_routing_keep_an_owner_who_fits_and_only_raise_priority(
    worded: SocialdeskConfig, ticket: TicketFactory
) -> None:
    held = ticket(status="assigned", agent_id="dee", priority="medium")
    step = late_words(held, "refund, I am stranded", rotation=rotation(worded), config=worded, now=NOW)
    assert step is not None
    assert (step.ticket.agent_id, step.ticket.priority) == ("dee", "critical")
    # sla-monitor tightens the running clocks; Slack and Freshdesk show the new priority.
    (raised,) = step.events
    assert isinstance(raised, TicketPriorityRaised)
    assert (raised.previous_priority, raised.priority, raised.agent_id) == ("medium", "critical", "dee")


def test_words_after_routing_give_a_queued_ticket_to_the_skill(
    worded: SocialdeskConfig, ticket: TicketFactory
) -> None:
    waiting = ticket()
    step = late_words(waiting, "a refund please", rotation=rotation(worded), config=worded, now=NOW)
    assert step is not None
    assert (step.ticket.agent_id, step.ticket.status) == ("dee", "assigned")
    *_, event = step.events
    assert isinstance(event, TicketAssigned) and event.reason == "round_robin"


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ({"status": "assigned", "agent_id": "ana", "first_response_at": NOW}, "refund now"),
        ({"status": "resolved", "agent_id": "ana"}, "refund now"),
        ({"status": "assigned", "agent_id": "ana"}, "nothing that matches"),
    ],
)
def test_words_after_routing_leave_answered_resolved_or_unmatched_tickets_alone(
    worded: SocialdeskConfig, ticket: TicketFactory, state: dict[str, Any], words: str
) -> None:
    assert late_words(ticket(**state), words, rotation=rotation(worded), config=worded, now=NOW) is None


def test_words_after_routing_keep_the_owner_when_nobody_with_the_skill_has_room(
    worded: SocialdeskConfig, ticket: TicketFactory
) -> None:
    config = worded.model_copy(deep=True)
    held = ticket(status="assigned", agent_id="ana", priority="low")
    full = rotation(config, dee=config.agent("dee").max_open_tickets)
    assert late_words(held, "refund", rotation=full, config=config, now=NOW) is None
