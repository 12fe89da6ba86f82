"""Shared fixtures and builders of the notifier's Slack integration tests (issue 11); no tests here."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from socialdesk_notifier.bootstrap import SPEC
from socialdesk_notifier.worker import DeliveryWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.config.crisis import CrisisSettings
from socialdesk_schemas import (
    AgentReplied,
    Author,
    MessageClassified,
    MessageReceived,
    TicketAssigned,
    TicketEscalated,
    TicketResolved,
)
from tests.fakes.slack import FakeSlack, signed_interaction
from tests.support import Booted, booted, config_for_tests, envelope

# Rally's L3 channel (C0RALEAD) is missing on purpose: channel_not_found.
CHANNELS = ["C0OBL1", "C0OBLEAD", "C0OBMGR", "C0TMT", "C0OBWARN", "C0OBCRISIS", "C0RAWARN"]
SECRET = "slack-signing-secret"


def slack_config() -> SocialdeskConfig:
    """The test configuration with Ana (L1) mapped to a Slack user and crisis contacts."""
    base = config_for_tests({"TEST_SLACK_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET})
    agents = [
        a.model_copy(update={"slack_user_id": "U0OBANA"}) if a.id == "ob-ana" else a for a in base.agents
    ]
    crisis = CrisisSettings.model_validate({"contacts": {"ourbus": {"major": ["U0FARAH"]}}})
    return base.model_copy(update={"agents": agents, "crisis": crisis})


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token="xoxb-test", channels=CHANNELS) as fake:
        yield fake


@pytest.fixture
async def notifier(fresh_db: str, slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Booted]:
    async with booted(
        SPEC,
        fresh_db,
        clock=FakeClock(),
        config=slack_config(),
        settings={
            "slack_base_url": slack.base_url,
            "local_sink_path": tmp_path / "sink.jsonl",
            "delivery_lease_seconds": 8,
            "slack_channel_interval_seconds": 1.0,
            "graph_base_url": "http://127.0.0.1:9",
            "x_base_url": "http://127.0.0.1:9",
        },
    ) as svc:
        yield svc


def worker_of(svc: Booted) -> DeliveryWorker:
    (worker,) = (w for w in svc.parts.workers if isinstance(w, DeliveryWorker))
    return worker


def clock_of(svc: Booted) -> FakeClock:
    assert isinstance(svc.runtime.clock, FakeClock)
    return svc.runtime.clock


async def drain(svc: Booted, rounds: int = 6, step: float = 2.0) -> None:
    """Run the worker until nothing is due, moving the fake clock past each back-off."""
    worker = worker_of(svc)
    for _ in range(rounds):
        await worker.run_once()
        clock_of(svc).advance(seconds=step)


def opened(svc: Booted, ticket: uuid.UUID, **over: Any) -> tuple[MessageReceived, MessageClassified]:
    """The message that opened ``ticket`` and its classification."""
    clock = clock_of(svc)
    message, conversation, customer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    common: dict[str, Any] = {
        "message_id": message,
        "conversation_id": conversation,
        "customer_id": customer,
        "brand": "ourbus",
        "platform": "x",
        "kind": "dm",
        "platform_message_id": f"m-{message.hex[:6]}",
        "received_at": clock.now(),
    }
    received = MessageReceived(
        **envelope(clock, ticket),
        **common,
        author=Author(platform_user_id="4400556677", handle="@samo"),
        text=over.pop("text", "My bus never came and <!channel> nobody answers. Refund please!"),
    )
    classified = MessageClassified(
        **envelope(clock, ticket),
        **common,
        author_platform_user_id="4400556677",
        queue=over.pop("queue", "cx"),
        category=over.pop("category", "complaint"),
        priority=over.pop("priority", "high"),
        sentiment="negative",
        language="en",
    )
    return received, classified


def assigned(svc: Booted, ticket: uuid.UUID, agent: str = "ob-ana", **over: Any) -> TicketAssigned:
    clock = clock_of(svc)
    return TicketAssigned(
        **envelope(clock, ticket),
        brand="ourbus",
        platform="x",
        agent_id=agent,
        agent_level=over.pop("agent_level", "L1"),
        priority="high",
        received_at=clock.now(),
        **over,
    )


def lead_replied(svc: Booted, ticket: uuid.UUID, *, first: bool = False) -> AgentReplied:
    """The brand lead answered ``ticket`` on X, now."""
    clock = clock_of(svc)
    return AgentReplied(
        **envelope(clock, ticket),
        reply_id=uuid.uuid4(),
        brand="ourbus",
        platform="x",
        agent_id="ob-lead",
        replied_at=clock.now(),
        is_first_response=first,
    )


def lead_resolved(svc: Booted, ticket: uuid.UUID) -> TicketResolved:
    """The brand lead resolved ``ticket``, now."""
    clock = clock_of(svc)
    return TicketResolved(
        **envelope(clock, ticket), brand="ourbus", agent_id="ob-lead", root_cause="x", resolved_at=clock.now()
    )


def escalated(svc: Booted, ticket: uuid.UUID, to_level: str = "L3", **over: Any) -> TicketEscalated:
    clock = clock_of(svc)
    fields: dict[str, Any] = {
        **envelope(clock, ticket),
        "brand": "ourbus",
        "platform": "x",
        "priority": "high",
        "from_level": "L1",
        "to_level": to_level,
        "to_agent_id": "ob-lead" if to_level == "L3" else None,
        "reason": "first_response SLA breached",
        "deadline": clock.now(),
    }
    fields.update(over)
    return TicketEscalated(**fields)


def click(
    svc: Booted,
    slack: FakeSlack,
    ticket: uuid.UUID,
    action: str,
    user: str,
    *,
    action_ts: str | None = None,
    secret: str = SECRET,
    age_seconds: float = 0,
) -> tuple[bytes, dict[str, str]]:
    """A signed ``block_actions`` request as Slack sends it when ``user`` presses a button."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()},
        "trigger_id": f"trig-{uuid.uuid4().hex[:8]}",
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": "C0OBLEAD"},
        "channel": {"id": "C0OBLEAD"},
        "message": {"ts": "1.000001"},
        "response_url": slack.response_url(uuid.uuid4().hex[:6]),
        "actions": [
            {
                "action_id": action,
                "value": str(ticket),
                "type": "button",
                "action_ts": action_ts or f"{uuid.uuid4().int % 10**9}.000100",
            }
        ],
    }
    now = clock_of(svc).now().timestamp()
    return signed_interaction(payload, secret=secret, timestamp=int(now - age_seconds))
