"""End to end: the five services as processes, a message in, a Slack page out (or not)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

TOKENS = {"ob-ana": "tok-ana", "ob-ben": "tok-ben", "ob-dee": "tok-dee", "ra-hugo": "tok-hugo"}
LEAD = {"Authorization": "Bearer tok-lead"}


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def post_message(intake: httpx.Client, text: str, *, brand: str = "ourbus", author: str | None = None) -> str:
    body = {
        "brand": brand,
        "platform": "x",
        "kind": "dm",
        "platform_message_id": f"dm-{uuid.uuid4().hex}",
        "author": {"platform_user_id": author or f"user-{uuid.uuid4().hex[:8]}", "followers": 40},
        "text": text,
    }
    response = intake.post("/v1/messages", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["ticket_id"])


def assigned_ticket(desk: httpx.Client, ticket_id: str) -> dict[str, Any] | None:
    response = desk.get(f"/v1/tickets/{ticket_id}", headers=LEAD)
    if response.status_code != 200:
        return None
    ticket = response.json()
    return ticket if ticket["status"] == "assigned" else None


def pages_for(stack: Stack, ticket_id: str, channel: str) -> list[dict[str, Any]]:
    return [p for p in stack.slack.posts if p.get("channel") == channel and ticket_id in json.dumps(p)]


def test_unanswered_ticket_pages_the_brand_lead_and_answered_one_does_not(
    stack: Stack, intake: httpx.Client, desk: httpx.Client
) -> None:
    unanswered = post_message(intake, "My bus to DC never showed up, I'm still at the stop")
    answered = post_message(intake, "Please send me a receipt for my trip to DC last week")
    owner = wait_for("assignment", lambda: assigned_ticket(desk, answered))["agent_id"]
    wait_for("assignment", lambda: assigned_ticket(desk, unanswered))
    reply = desk.post(
        f"/v1/tickets/{answered}/reply",
        json={"text": "One carry-on and one checked bag."},
        headers={"Authorization": f"Bearer {TOKENS[owner]}"},
    )
    assert reply.status_code == 202, reply.text

    # The test policy gives 4 s: the unanswered ticket pages the OurBus lead channel.
    (page,) = wait_for("escalation page", lambda: pages_for(stack, unanswered, "C0OBLEAD"), timeout=30)
    assert "Escalation to L3" in page["text"]
    assert "<@U0FARAH>" in page["text"]
    # Give the answered ticket time to have breached had the reply not stopped its timer.
    time.sleep(2.0)
    assert pages_for(stack, answered, "C0OBLEAD") == []
    assert pages_for(stack, unanswered, "C0OBLEAD") == [page], "paged exactly once"


def test_sigkill_mid_stream_loses_no_ticket_and_posts_nothing_twice(
    stack: Stack, intake: httpx.Client, desk: httpx.Client
) -> None:
    before = len(stack.slack.posts)
    tickets = [post_message(intake, f"Where is my bus #{i}? It is 20 minutes late.") for i in range(15)]
    stack.supervisor.kill("classifier")
    tickets += [post_message(intake, f"Still waiting at the curb #{i}") for i in range(15)]
    stack.supervisor.restart("classifier")
    # Kill the notifier as soon as it starts paging: it dies between sends and records.
    wait_for("first page", lambda: len(stack.slack.posts) > before, timeout=60, every=0.02)
    stack.supervisor.kill("notifier")
    stack.supervisor.kill("assigner")
    stack.supervisor.restart("assigner")
    stack.supervisor.restart("notifier")

    def all_paged() -> bool:
        return all(pages_for(stack, t, "C0OBLEAD") for t in tickets)

    wait_for("every ticket paged", all_paged, timeout=90, every=0.2)
    time.sleep(4.0)  # a delivery lease (3 s) and then some: a duplicate would show by now
    counts = {t: len(pages_for(stack, t, "C0OBLEAD")) for t in tickets}
    assert set(counts.values()) == {1}, {t: n for t, n in counts.items() if n != 1}
    # Nothing lost on the way: every ticket is owned by somebody.
    assert all(assigned_ticket(desk, t) for t in tickets)


def test_metrics_and_health_on_every_service(stack: Stack) -> None:
    with httpx.Client(timeout=5) as client:
        for service, port in stack.ports.items():
            base = f"http://127.0.0.1:{port}"
            assert client.get(f"{base}/healthz").status_code == 200
            ready = client.get(f"{base}/readyz")
            assert ready.status_code == 200, ready.text
            metrics = client.get(f"{base}/metrics")
            assert metrics.status_code == 200
            assert metrics.headers["content-type"].startswith("text/plain")
            prefix = service.replace("-", "_")
            assert f"{prefix}_outbox_published_events_total" in metrics.text


def test_sigterm_drains_and_exits_cleanly_then_the_service_resumes(
    stack: Stack, intake: httpx.Client, desk: httpx.Client
) -> None:
    ticket = post_message(intake, "Is the 7am bus to Boston running?")
    stack.supervisor.stop_service("assigner")  # SIGTERM, and held down
    status = next(s for s in stack.supervisor.status() if s.name == "assigner")
    assert status.last_exit_code == 0, stack.logs("assigner")
    later = post_message(intake, "Hello? Anyone there? I need help with my booking")
    stack.supervisor.restart("assigner")
    stack.supervisor.wait_ready(["assigner"], timeout_s=60)
    wait_for(
        "both assigned after the restart",
        lambda: assigned_ticket(desk, ticket) and assigned_ticket(desk, later),
    )


def test_sla_monitor_killed_while_a_reply_is_in_flight_pages_only_the_unanswered(
    stack: Stack, intake: httpx.Client, desk: httpx.Client
) -> None:
    answered = post_message(intake, "Can I change my booking to Friday?")
    unanswered = post_message(intake, "Driver left without me at Port Authority!!")
    owner = wait_for("assignment", lambda: assigned_ticket(desk, answered))["agent_id"]
    wait_for("assignment", lambda: assigned_ticket(desk, unanswered))
    stack.supervisor.kill("sla-monitor")
    reply = desk.post(
        f"/v1/tickets/{answered}/reply",
        json={"text": "Done, you are on Friday's 9:00."},
        headers={"Authorization": f"Bearer {TOKENS[owner]}"},
    )
    assert reply.status_code == 202
    time.sleep(5.0)  # both deadlines (4 s) pass while the sla-monitor is down
    stack.supervisor.restart("sla-monitor")
    # The timer armed before the crash still fires after it...
    wait_for("escalation page", lambda: pages_for(stack, unanswered, "C0OBLEAD"), timeout=60)
    # ...but the reply that waited in Kafka is read before any deadline is judged.
    time.sleep(1.0)
    assert pages_for(stack, answered, "C0OBLEAD") == []


def test_an_incident_burst_becomes_a_hot_topic_in_the_brands_warnings_channel(
    stack: Stack, intake: httpx.Client
) -> None:
    texts = [
        "Our OurBus broke down on the NJ Turnpike near exit 9, nobody says anything",
        "Stuck on the Turnpike by exit 9, the bus broke down an hour ago",
        "Bus broken down NJ Turnpike exit 9, no AC, kids crying",
        "Anyone else on the broken down OurBus near exit 9 of the Turnpike?",
        "NJ Turnpike exit 9 breakdown, still waiting for a replacement bus",
        "Broke down on the Turnpike near exit 9 AGAIN. Never booking again",
    ]
    for text in texts:
        post_message(intake, text)

    def hot_topic_posted() -> list[dict[str, Any]]:
        return [
            p
            for p in stack.slack.posts
            if p.get("channel") == "C0OBWARN" and "Hot topic" in p.get("text", "")
        ]

    (page,) = wait_for("hot-topic page", hot_topic_posted, timeout=30)
    assert "similar posts" in page["text"]
    time.sleep(1.0)
    assert len(hot_topic_posted()) == 1, "one page per hot topic, not one per post"
