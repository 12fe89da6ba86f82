"""Replies to customers end to end: the five services as processes on their own broker,
the notifier pointed at the Meta Graph and X fakes. A ``ReplyRequested`` on
``outbound.replies`` (what the desk publishes for an agent's reply) reaches the right
platform call exactly once; a closed window calls nobody; a throttle backs off and
succeeds; a SIGKILL of the notifier between the send and its record sends nothing twice.

The echo that settles a send whose answer was lost comes the real way: a signed
Messenger echo webhook to ingest, which publishes ``OwnMessageSeen``.

The stack, and the builders of what these tests publish, are in :mod:`tests.e2e.replies_stack`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from socialdesk_runtime.embedded import EmbeddedPostgres
from tests.e2e.replies_stack import (
    IG,
    META_SECRET,
    PAGE,
    PHONE,
    ReplyStack,
    customer_wrote,
    meta_sends_with,
    publish,
    reply,
    reply_stack,
    wait_for,
)
from tests.fakes._http import Fault, Reply, Request
from tests.support import TEST_ENV

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def replies_stack(postgres: EmbeddedPostgres) -> Iterator[ReplyStack]:
    with reply_stack(postgres) as stack:
        yield stack


def test_every_surface_gets_exactly_one_correct_call(replies_stack: ReplyStack) -> None:
    stack = replies_stack
    meta_cases = {
        "messenger": reply("messenger", "dm", "6100000000000001"),
        "facebook": reply("facebook", "comment", "5550001112223", "880011_990022"),
        "instagram_dm": reply("instagram", "dm", "1133557799000001"),
        "instagram_comment": reply("instagram", "comment", "1133557799000002", "18012345678900001"),
        "whatsapp": reply("whatsapp", "dm", "447700900001", "wamid.HBgIn01"),
    }
    dm = reply("x", "dm", "4400556601")
    mention = reply("x", "mention", "4400556602", "2007000000000000001")
    publish(stack, *meta_cases.values(), dm, mention)

    expected_api = {
        "messenger": ("messenger", PAGE),
        "facebook": ("comments", "880011_990022"),
        "instagram_dm": ("instagram", IG),
        "instagram_comment": ("instagram_replies", "18012345678900001"),
        "whatsapp": ("whatsapp", PHONE),
    }
    for name, event in meta_cases.items():
        (send,) = wait_for(f"{name} sent", lambda e=event: meta_sends_with(stack, e.text))  # type: ignore[misc]
        assert (send.api, send.object_id) == expected_api[name], name
    wait_for(
        "X DM and reply post",
        lambda: len([s for s in stack.x.sends if s.payload.get("text") in {dm.text, mention.text}]) == 2,
    )
    (x_dm,) = [s for s in stack.x.dms if s.payload["text"] == dm.text]
    assert x_dm.participant_id == "4400556601"
    (x_post,) = [s for s in stack.x.tweets if s.payload["text"] == mention.text]
    assert x_post.payload["reply"] == {"in_reply_to_tweet_id": "2007000000000000001"}
    # Exactly once: the successes are counted, and nothing more arrives.
    wait_for(
        "seven successes counted",
        lambda: (
            sum(
                stack.metric("notifier_deliveries_total", {"channel": c, "outcome": "sent"})
                for c in ("messenger", "facebook", "instagram", "whatsapp", "x")
            )
            >= 7
        ),
    )
    for event in meta_cases.values():
        assert len(meta_sends_with(stack, event.text)) == 1


def test_window_closed_calls_nobody(replies_stack: ReplyStack) -> None:
    stack = replies_stack
    psid = "6100000000000099"
    consumed = stack.metric("notifier_events_consumed_total", {"outcome": "processed"})
    publish(stack, customer_wrote("messenger", psid, ago=timedelta(days=8)))
    # The customer's message and the reply travel on different topics: let the first land.
    wait_for(
        "the customer's message recorded",
        lambda: stack.metric("notifier_events_consumed_total", {"outcome": "processed"}) > consumed,
    )
    before = stack.metric(
        "notifier_delivery_failures_total", {"channel": "messenger", "reason": "window_closed"}
    )
    late = reply("messenger", "dm", psid)
    publish(stack, late)
    wait_for(
        "window_closed failure",
        lambda: (
            stack.metric(
                "notifier_delivery_failures_total", {"channel": "messenger", "reason": "window_closed"}
            )
            > before
        ),
    )
    assert meta_sends_with(stack, late.text) == []
    assert [c for c in stack.meta.calls if late.text in c.request.body.decode()] == []


def test_throttled_then_succeeded(replies_stack: ReplyStack) -> None:
    stack = replies_stack
    stack.meta.rate_limit_next(1, api="whatsapp")
    event = reply("whatsapp", "dm", "447700900077")
    before = stack.metric("notifier_replies_throttled_total", {"channel": "whatsapp"})
    publish(stack, event)
    wait_for("sent after the back-off", lambda: meta_sends_with(stack, event.text), timeout=45)
    assert stack.metric("notifier_replies_throttled_total", {"channel": "whatsapp"}) == before + 1
    assert len(meta_sends_with(stack, event.text)) == 1


def test_sigkill_between_send_and_record_sends_nothing_twice(replies_stack: ReplyStack) -> None:
    stack = replies_stack
    event = reply("messenger", "dm", "6100000000000042")

    def kill_after_send(_request: Request) -> Reply:
        # The send took effect (processed=True); the notifier dies before it hears back.
        pid = stack.supervisor.pid("notifier")
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        return Reply(500, {"error": {"message": "connection lost", "code": 2}})

    stack.meta._inject(
        Fault(
            1,
            kill_after_send,
            lambda req: req.path.endswith(f"/{PAGE}/messages") and event.text in req.body.decode(),
            processed=True,
        )
    )
    before = stack.metric("notifier_deliveries_recovered_total", {"channel": "messenger"})
    pid_before = stack.supervisor.pid("notifier")
    publish(stack, event)
    (send,) = wait_for("the send before the kill", lambda: meta_sends_with(stack, event.text))
    wait_for(
        "the notifier killed and restarted",
        lambda: stack.supervisor.pid("notifier") not in (None, pid_before),
    )
    stack.supervisor.wait_ready(["notifier"], timeout_s=60)
    # Restarted, lease expired: it waits for the echo instead of sending again.
    wait_for(
        "ambiguous delivery reclaimed",
        lambda: stack.metric("notifier_deliveries_total", {"channel": "messenger", "outcome": "retry"}) >= 1,
    )
    assert len(meta_sends_with(stack, event.text)) == 1
    # Meta echoes our send to the Page's webhook with the metadata we attached; ingest
    # turns it into OwnMessageSeen, which settles the delivery.
    now_ms = int(time.time() * 1000)
    echo = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": now_ms,
                "messaging": [
                    {
                        "sender": {"id": PAGE},
                        "recipient": {"id": "6100000000000042"},
                        "timestamp": now_ms,
                        "message": {
                            "is_echo": True,
                            "app_id": 987650001234567,
                            "metadata": f"sd:{event.reply_id}",
                            "mid": send.response["message_id"],
                            "text": event.text,
                        },
                    }
                ],
            }
        ],
    }
    raw = json.dumps(echo).encode()
    signature = "sha256=" + hmac.new(META_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    answer = httpx.post(
        f"http://127.0.0.1:{stack.ports['ingest']}/v1/webhooks/meta",
        content=raw,
        headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    wait_for(
        "recovered through the echo",
        lambda: stack.metric("notifier_deliveries_recovered_total", {"channel": "messenger"}) > before,
        timeout=60,
    )
    assert len(meta_sends_with(stack, event.text)) == 1


def test_a_desk_reply_to_an_x_dm_reaches_the_customer_once(replies_stack: ReplyStack) -> None:
    """Intake → ticket → the owner replies through the desk API → one X DM to the author."""
    stack = replies_stack
    author = "4400556699"
    body = {
        "brand": "ourbus",
        "platform": "x",
        "kind": "dm",
        "platform_message_id": f"dm-{uuid.uuid4().hex}",
        "author": {"platform_user_id": author, "followers": 40},
        "text": "Please send me a receipt for my trip to DC last week",
    }
    intake = httpx.post(
        f"http://127.0.0.1:{stack.ports['ingest']}/v1/messages",
        json=body,
        headers={"X-API-Key": TEST_ENV["TEST_INGEST_API_KEYS"].split(",")[0]},
        timeout=10,
    )
    assert intake.status_code == 202, intake.text
    ticket_id = intake.json()["ticket_id"]
    desk = f"http://127.0.0.1:{stack.ports['assigner']}"

    def assigned() -> dict[str, Any] | None:
        answer = httpx.get(
            f"{desk}/v1/tickets/{ticket_id}", headers={"Authorization": "Bearer tok-lead"}, timeout=5
        )
        ticket = answer.json() if answer.status_code == 200 else None
        return ticket if ticket and ticket.get("status") == "assigned" else None

    owner = wait_for("assignment", assigned)["agent_id"]
    token = "tok-" + owner.removeprefix("ob-")  # the test roster: T_ANA=tok-ana, ...
    text = f"Your receipt is on its way ({uuid.uuid4().hex[:6]})."
    answer = httpx.post(
        f"{desk}/v1/tickets/{ticket_id}/reply",
        json={"text": text},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    (dm,) = wait_for("the DM", lambda: [s for s in stack.x.dms if s.payload.get("text") == text])
    assert dm.participant_id == author
    wait_for(
        "the send counted",
        lambda: stack.metric("notifier_deliveries_total", {"channel": "x", "outcome": "sent"}) >= 1,
    )
    assert len([s for s in stack.x.dms if s.payload.get("text") == text]) == 1
