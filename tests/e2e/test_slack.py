"""End to end (issue 11): the five services as processes against the Slack fake.

A breach posts a parent and the next rung replies in its thread and updates it; signed
clicks at the notifier's interactivity URL (Take ownership, Acknowledge) change the flow,
a forged one changes nothing; a flood of 200 breaches on one channel is paced (no 429
after the first) and collapsed into a digest.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from socialdesk_schemas import TOPICS, TicketEscalated, encode_event
from tests.e2e.conftest import Stack
from tests.fakes.slack import signed_interaction
from tests.support import TEST_ENV

pytestmark = pytest.mark.e2e

SECRET = TEST_ENV["SLACK_SIGNING_SECRET"]
LEAD = {"Authorization": "Bearer tok-lead"}
FARAH = "U0FARAH"  # ob-lead, L3, mapped in the test configuration (owns escalated tickets)
GABE = "U0GABE"  # ob-mgr, L4


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def post_message(intake: httpx.Client, text: str) -> str:
    body = {
        "brand": "ourbus",
        "platform": "x",
        "kind": "dm",
        "platform_message_id": f"dm-{uuid.uuid4().hex}",
        "author": {"platform_user_id": f"user-{uuid.uuid4().hex[:8]}", "handle": "@rider", "followers": 40},
        "text": text,
    }
    response = intake.post("/v1/messages", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["ticket_id"])


def messages_about(stack: Stack, channel: str, ticket: str) -> list[dict[str, Any]]:
    """Top-level messages of ``channel`` about ``ticket`` (as the channel holds them now),
    digests of other tests' floods left out."""
    return [
        m
        for m in stack.slack.messages(channel)
        if ticket in json.dumps(m)
        and m.get("thread_ts", m["ts"]) == m["ts"]
        and "in the last minute" not in m["text"]
    ]


def press(stack: Stack, ticket: str, action: str, user: str, *, secret: str = SECRET) -> httpx.Response:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "trigger_id": f"trig-{uuid.uuid4().hex[:8]}",
        "channel": {"id": "C0OBLEAD"},
        "response_url": stack.slack.response_url(uuid.uuid4().hex[:8]),
        "actions": [
            {"action_id": action, "value": ticket, "type": "button", "action_ts": f"{time.time():.6f}"}
        ],
    }
    body, headers = signed_interaction(payload, secret=secret)
    return httpx.post(
        stack.url("notifier", "/v1/slack/interactions"), content=body, headers=headers, timeout=10
    )


@pytest.fixture
def breached(stack: Stack, intake: httpx.Client) -> Callable[[str], tuple[str, dict[str, Any]]]:
    """Post a message and wait until its breach is the parent of a thread in the lead channel."""

    def make(text: str) -> tuple[str, dict[str, Any]]:
        ticket = post_message(intake, text)
        (parent,) = wait_for("breach parent", lambda: messages_about(stack, "C0OBLEAD", ticket), timeout=40)
        return ticket, parent

    return make


async def _events_of(
    bootstrap: str, topic: str, event_type: str, ticket: str, timeout: float, *, every: bool = False
) -> list[dict[str, Any]]:
    """The ticket's events of ``event_type`` on ``topic``: the first found within ``timeout``,
    or with ``every`` all of them up to the end of the topic."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and (every or not found):
            batch = await consumer.getmany(timeout_ms=500)
            if every and not batch:
                break
            for records in batch.values():
                for r in records:
                    data = orjson.loads(r.value or b"{}")
                    if data.get("event_type") == event_type and data.get("ticket_id") == ticket:
                        found.append(data)
    finally:
        await consumer.stop()
    return found


def climbs(stack: Stack, ticket: str) -> list[tuple[datetime, str]]:
    """When each rung of ``ticket``'s ladder fired, and to which level (from the topic)."""
    events = asyncio.run(
        _events_of(stack.kafka_bootstrap, TOPICS.sla.name, "TicketEscalated", ticket, 20, every=True)
    )
    return [(datetime.fromisoformat(e["occurred_at"]), e["to_level"]) for e in events]


def acknowledgements(stack: Stack) -> float:
    """Acknowledge clicks sla-monitor has read (its metric)."""
    text = httpx.get(stack.url("sla-monitor", "/metrics"), timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("sla_monitor_acknowledgements_total{")
    )


def test_a_breach_posts_a_parent_and_the_next_rung_replies_in_its_thread_and_updates_it(
    stack: Stack, breached: Callable[[str], tuple[str, dict[str, Any]]]
) -> None:
    ticket, parent = breached("The 9:40 bus to Boston never came and nobody answers the phone")
    assert "Escalation to L3" in parent["text"] and "@rider" in json.dumps(parent["blocks"])
    assert [b for b in parent["blocks"] if b["type"] == "actions"], "the parent carries the buttons"
    # Nobody acts: the ladder climbs to L4, in its own channel and in the lead's thread.
    wait_for("L4 page", lambda: messages_about(stack, "C0OBMGR", ticket), timeout=40)
    (climb,) = wait_for(
        "reply in the lead's thread",
        lambda: [
            m
            for m in stack.slack.thread("C0OBLEAD", parent["ts"])
            if m["ts"] != parent["ts"] and "Escalated to L4" in m["text"]
        ],
        timeout=60,  # the lead channel may still be working off other tests' floods at 1 post/s
    )
    assert climb["thread_ts"] == parent["ts"]
    # The parent shows the ticket's current rung: L4, or TMT if the ladder climbed again
    # before the channel's turn for the update came.
    wait_for(
        "parent updated",
        lambda: any(
            f"Escalated to {level}" in messages_about(stack, "C0OBLEAD", ticket)[0]["text"]
            for level in ("L4", "TMT")
        ),
        timeout=60,
    )
    assert any(u["ts"] == parent["ts"] and u["channel"] == "C0OBLEAD" for u in stack.slack.updates)
    assert all(u["ts"] in {m["ts"] for m in stack.slack.messages(u["channel"])} for u in stack.slack.updates)


def test_take_ownership_reassigns_the_ticket_through_the_assigner(
    stack: Stack, desk: httpx.Client, breached: Callable[[str], tuple[str, dict[str, Any]]]
) -> None:
    ticket, _parent = breached("Driver left without me at the Newark stop, I need a refund")
    before = len(stack.slack.responses)
    # The escalation made Farah (L3) the owner: Gabe (L4) takes it over from Slack.
    assert press(stack, ticket, "take_ownership", GABE).status_code == 200
    (answer,) = wait_for("ephemeral answer", lambda: stack.slack.responses[before:], timeout=10)
    assert answer["response_type"] == "ephemeral" and "assigned to you" in answer["text"]
    requested = asyncio.run(
        _events_of(stack.kafka_bootstrap, TOPICS.deliveries.name, "OwnershipRequested", ticket, 20)
    )
    assert requested and requested[0]["agent_id"] == "ob-mgr"
    owner = wait_for(
        "the desk shows the new owner",
        lambda: desk.get(f"/v1/tickets/{ticket}", headers=LEAD).json().get("agent_id") == "ob-mgr",
        timeout=30,
    )
    assert owner
    wait_for(
        "parent shows who acted",
        lambda: "Taken by <@U0GABE>" in messages_about(stack, "C0OBLEAD", ticket)[0]["text"],
        timeout=20,
    )


def test_acknowledge_stops_the_next_rung_and_a_forged_click_changes_nothing(
    stack: Stack, intake: httpx.Client
) -> None:
    acked = post_message(intake, "Bus 2231 broke down on I-95, we are stuck for an hour")
    wait_for("breach parent", lambda: messages_about(stack, "C0OBLEAD", acked), timeout=40, every=0.05)
    before, read = len(stack.slack.responses), acknowledgements(stack)
    assert press(stack, acked, "acknowledge", FARAH).status_code == 200
    wait_for("ephemeral answer", lambda: stack.slack.responses[before:], timeout=10)
    # A rung may fire between the click and sla-monitor reading it (seconds apart here,
    # minutes in production); none may fire after it.
    wait_for("sla-monitor read the click", lambda: acknowledgements(stack) > read, timeout=30)
    read_at = datetime.now(UTC)
    # Two tickets breached after the click was read: their ladders run on, the acknowledged
    # one's (which breached earlier, so would climb earlier) does not.
    forged = post_message(intake, "Bus 2231 broke down, still stuck on the highway shoulder")
    control = post_message(intake, "Bus 2231 broke down and nobody tells us anything")
    for ticket in (forged, control):
        wait_for("breach parent", lambda t=ticket: messages_about(stack, "C0OBLEAD", t), timeout=40)
    bad = press(stack, forged, "acknowledge", FARAH, secret="not-the-signing-secret")
    assert bad.status_code == 401
    for ticket in (control, forged):
        wait_for(
            "a climb past L3", lambda t=ticket: [c for c in climbs(stack, t) if c[1] != "L3"], timeout=40
        )
    late = [c for c in climbs(stack, acked) if c[0] > read_at]
    assert late == [], "acknowledged: no rung after sla-monitor read the click"
    assert len(stack.slack.responses) == before + 1, "the forged click got no answer at all"
    wait_for(
        "the parent shows who acknowledged",
        lambda: "Acknowledged by <@U0FARAH>" in messages_about(stack, "C0OBLEAD", acked)[0]["text"],
        timeout=20,
    )
    assert "Acknowledged" not in messages_about(stack, "C0OBLEAD", forged)[0]["text"]


@pytest.fixture
def paced_slack(stack: Stack) -> Iterator[Stack]:
    """The fake refuses a second post to a channel within a second, as Slack does."""
    stack.slack.post_interval = 1.0
    try:
        yield stack
    finally:
        stack.slack.post_interval = None


async def _publish(bootstrap: str, events: list[TicketEscalated]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for event in events:
            await producer.send(TOPICS.sla.name, key=str(event.ticket_id).encode(), value=encode_event(event))
        await producer.flush()
    finally:
        await producer.stop()


def test_a_flood_of_200_breaches_on_one_channel_is_paced_and_digested(paced_slack: Stack) -> None:
    stack = paced_slack
    channel = "C0RALEAD"  # Rally's lead channel: no other test posts there
    now = datetime.now(UTC)
    tickets = [uuid.uuid4() for _ in range(200)]
    breaches = [
        TicketEscalated(
            producer="sla-monitor",
            occurred_at=now,
            ticket_id=t,
            correlation_id=uuid.uuid4(),
            brand="rally",
            platform="x",
            priority="high",
            from_level="L1",
            to_level="L3",
            to_agent_id=None,
            reason="first_response SLA breached",
            deadline=now,
        )
        for t in tickets
    ]
    asyncio.run(_publish(stack.kafka_bootstrap, breaches))

    def covered() -> set[str]:
        seen: set[str] = set()
        for post in stack.slack.posts:
            if post["channel"] == channel:
                seen |= {str(t) for t in tickets if str(t) in json.dumps(post)}
        return seen

    wait_for("every breach posted or digested", lambda: len(covered()) == len(tickets), timeout=90, every=0.5)
    posts = [p for p in stack.slack.posts if p["channel"] == channel]
    digests = [p for p in posts if "in the last minute" in p["text"]]
    assert digests, "the flood collapsed into a digest"
    assert "breaches in the last minute; the 5 oldest" in digests[0]["text"]
    assert len(posts) < 60, f"{len(posts)} posts: a wall, not a digest"
    throttled = [c for c in stack.slack.calls if c.status == 429 and c.args.get("channel") == channel]
    assert len(throttled) <= 1, f"{len(throttled)} posts answered 429"
