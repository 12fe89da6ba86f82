"""Plain-data fixtures for the assigner's domain tests: a small desk, messages, tickets."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from socialdesk_assigner.domain import Ticket
from socialdesk_assigner.domain.ticket import open_ticket
from socialdesk_runtime.config import Agent, SocialdeskConfig
from socialdesk_schemas import MessageClassified

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

DESK: dict[str, Any] = {
    "brands": [
        {"id": "ourbus", "name": "OurBus", "slack_channels": {"L3": "C0OBLEAD"}},
        {"id": "rally", "name": "Rally", "slack_channels": {"L3": "C0RALEAD"}, "default_language": "es"},
    ],
    "agents": [
        {"id": "ana", "name": "Ana", "brands": ["ourbus"], "level": "L1", "max_open_tickets": 2},
        {"id": "ben", "name": "Ben", "brands": ["ourbus"], "level": "L1"},
        {"id": "cid", "name": "Cid", "brands": ["ourbus"], "level": "L1", "online": False},
        {"id": "dee", "name": "Dee", "brands": ["ourbus"], "level": "L2"},
        {"id": "lead", "name": "Farah", "brands": ["ourbus"], "level": "L3"},
        {"id": "mgr", "name": "Gabe", "brands": ["ourbus"], "level": "L4"},
        {"id": "top", "name": "Top", "brands": ["rally"], "level": "TMT"},
        {"id": "hugo", "name": "Hugo", "brands": ["rally"], "level": "L1"},
        {"id": "lia", "name": "Lia", "brands": ["rally"], "level": "L3"},
    ],
    "intake": {"api_keys_env": "KEYS"},
    "saved_replies": {
        "luggage": {"text": {"en": "One carry-on.", "es": "Un equipaje de mano."}},
        "refunds": {"brands": ["rally"], "text": {"en": "Refunds take 5 days."}},
    },
}


@pytest.fixture
def config() -> SocialdeskConfig:
    return SocialdeskConfig.model_validate(DESK)


@pytest.fixture
def agent(config: SocialdeskConfig) -> Callable[[str], Agent]:
    return config.agent


MessageFactory = Callable[..., MessageClassified]
TicketFactory = Callable[..., Ticket]


@pytest.fixture
def message() -> MessageFactory:
    def make(**over: Any) -> MessageClassified:
        fields: dict[str, Any] = {
            "producer": "test",
            "occurred_at": NOW,
            "ticket_id": uuid.uuid4(),
            "correlation_id": uuid.uuid4(),
            "message_id": uuid.uuid4(),
            "conversation_id": uuid.uuid4(),
            "customer_id": uuid.uuid4(),
            "brand": "ourbus",
            "platform": "instagram",
            "kind": "dm",
            "received_at": NOW,
            "platform_message_id": f"m-{uuid.uuid4().hex[:6]}",
            "author_platform_user_id": "igsid-1",
            "queue": "cx",
            "category": "complaint",
            "priority": "high",
            "sentiment": "negative",
            "language": "en",
            **over,
        }
        return MessageClassified(**fields)

    return make


@pytest.fixture
def ticket(message: MessageFactory) -> TicketFactory:
    """A CX ticket in any state: ``ticket(status="assigned", agent_id="ana")``."""

    def make(**over: Any) -> Ticket:
        return replace(open_ticket(message()), **over)

    return make
