"""Freshdesk end to end (issue 13), on the ``fd_stack`` (tests/e2e/freshdesk_stack.py).

A signed Messenger DM becomes one Freshdesk ticket (requester by social identity, group,
priority, tags); the customer's next message an incoming note; an agent's reply typed in
Freshdesk reaches the customer once through the Send API (never Freshdesk's e-mail) and
stops the SLA clock; a breach raises the priority and notes the escalation; 500 tickets
in a burst under a 160-per-window create cap arrive once each, with no 429 after the
first, even when the notifier is SIGKILLed mid-burst between a create and its record.
"""

from __future__ import annotations

import os
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from socialdesk_notifier.freshdesk.domain.ops import marker_tag
from tests.e2e.freshdesk_stack import (
    FD_AGENTS,
    GROUP_ID,
    FdStack,
    desk_ticket,
    fd_ticket_saying,
    first_response_clock,
    messenger_dm,
    meta_sends,
    ticket_id_of,
    wait_for,
)
from tests.fakes._http import Fault, Reply, Request
from tests.support import TEST_ENV

pytestmark = pytest.mark.e2e


def test_a_dm_becomes_one_ticket_notes_follow_and_an_agent_reply_reaches_the_customer_once(
    fd_stack: FdStack,
) -> None:
    stack = fd_stack
    psid = f"61000{uuid.uuid4().int % 10**10:010d}"
    first = f"My bus to Bandung is 3 hours late and nobody answers ({uuid.uuid4().hex[:6]})"
    messenger_dm(stack, psid, first)
    ticket = wait_for("the Freshdesk ticket", lambda: fd_ticket_saying(stack, first))
    ticket_id = ticket_id_of(ticket)
    contact = stack.fd.contact(ticket["requester_id"])
    assert contact["unique_external_id"] == f"messenger:{psid}" and contact["email"] is None
    [create] = [c for c in stack.fd.calls_to("POST tickets") if first in c.args["description"]]
    assert create.args["group_id"] == GROUP_ID
    assert create.args["priority"] in (1, 2, 3, 4) and create.args["source"] == 7
    assert {"ourbus", "messenger", "dm", marker_tag(ticket_id)} <= set(create.args["tags"])

    second = f"Still at the terminal ({uuid.uuid4().hex[:6]})"
    messenger_dm(stack, psid, second)
    note = wait_for(
        "the incoming note",
        lambda: [n for n in stack.fd.notes_of(ticket["id"]) if second in n["body"]],
    )
    assert note[0]["incoming"] and not note[0]["private"]

    # An agent answers in Freshdesk; the Automation rule tells the notifier.
    text = f"Your bus leaves in 10 minutes from gate 4 ({uuid.uuid4().hex[:6]})."
    stack.fd.agent_reply(ticket["id"], f"<p>{text}</p>", agent_id=FD_AGENTS["ob-ana"])
    (send,) = wait_for("the Messenger send", lambda: meta_sends(stack, text))
    assert send.payload["recipient"] == {"id": psid}
    wait_for(
        "the first-response clock stopped",
        lambda: (
            first_response_clock(desk_ticket(stack, ticket_id)).get("state") in ("met", "met_late", "stopped")
        ),
    )
    stack.fd.wait_webhooks()
    fired = [(p["event"], status) for p, status in stack.fd.webhooks if p["ticket_id"] == str(ticket["id"])]
    assert [e for e in fired if e[0] == "reply"] == [("reply", 200)]
    assert {status for _event, status in fired} == {200}  # our own private notes came back too: echoes
    # The reply is not noted back into Freshdesk, and goes out once.
    wait_for(
        "the send counted",
        lambda: stack.metric("notifier_deliveries_total", {"channel": "messenger", "outcome": "sent"}) >= 1,
    )
    assert len(meta_sends(stack, text)) == 1
    assert [e for e in stack.fd.emails if e["ticket_id"] == ticket["id"]] == []  # no e-mail, only Messenger
    assert not [n for n in stack.fd.notes_of(ticket["id"]) if text in n["body"] and n["user_id"] is None]


def test_a_breach_raises_the_priority_and_notes_the_escalation(fd_stack: FdStack) -> None:
    stack = fd_stack
    psid = f"61001{uuid.uuid4().int % 10**10:010d}"
    first = f"Where is my refund? ({uuid.uuid4().hex[:6]})"
    messenger_dm(stack, psid, first)
    ticket = wait_for("the Freshdesk ticket", lambda: fd_ticket_saying(stack, first))
    [create] = [c for c in stack.fd.calls_to("POST tickets") if first in c.args["description"]]
    # Nobody answers: the 4-second first-response target of the test configuration breaches.
    raised = wait_for(
        "priority raised and breach tagged",
        lambda: (
            (t := stack.fd.tickets[ticket["id"]])["priority"] > create.args["priority"]
            and "sla-breached" in t["tags"]
        ),
        timeout=60,
    )
    assert raised
    escalation = wait_for(
        "the escalation note",
        lambda: [n for n in stack.fd.notes_of(ticket["id"]) if n["private"] and "Escalated" in n["body"]],
    )
    assert "L3" in escalation[0]["body"] or "L2" in escalation[0]["body"]


#: The issue's 500 in `make faults` (SOCIALDESK_FAULTS=full); 200 in `make test`, still
#: several create-cap windows and a SIGKILL mid-way.
BURST = 500 if os.environ.get("SOCIALDESK_FAULTS") == "full" else 200


@pytest.mark.timeout(600)
def test_a_burst_of_tickets_under_the_create_cap_once_each_through_a_sigkill(fd_stack: FdStack) -> None:
    stack = fd_stack
    throttled_before = stack.fd.throttled
    killed: list[int] = []

    def kill_after_create(_request: Request) -> Reply:
        # The create took effect (processed=True); the notifier dies before hearing back.
        pid = stack.supervisor.pid("notifier")
        if pid is not None:
            killed.append(pid)
            os.kill(pid, signal.SIGKILL)
        return Reply(500, {"description": "connection lost"})

    counter = {"n": 0}

    def mid_burst_create(request: Request) -> bool:
        if request.method != "POST" or request.path != "/api/v2/tickets":
            return False
        counter["n"] += 1
        return counter["n"] == int(BURST * 0.3)

    stack.fd._inject(Fault(1, kill_after_create, mid_burst_create, processed=True))
    key = TEST_ENV["TEST_INGEST_API_KEYS"].split(",")[0]

    def intake(i: int) -> uuid.UUID:
        body = {
            "brand": "ourbus",
            "platform": "x",
            "kind": "dm",
            "platform_message_id": f"burst-{uuid.uuid4().hex}",
            "author": {"platform_user_id": f"77{i:08d}{uuid.uuid4().int % 1000:03d}", "followers": 10},
            "text": f"Burst message {i}: my bus was late",
        }
        answer = httpx.post(
            stack.url("ingest", "/v1/messages"), json=body, headers={"X-API-Key": key}, timeout=30
        )
        assert answer.status_code == 202, answer.text
        return uuid.UUID(answer.json()["ticket_id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        ticket_ids = list(pool.map(intake, range(BURST)))
    assert len(set(ticket_ids)) == BURST

    markers = {marker_tag(t) for t in ticket_ids}

    def synced() -> int:
        return len(markers & stack.fd.tag_counts("sd-").keys())

    wait_for(f"all {BURST} tickets in Freshdesk", lambda: synced() == BURST, timeout=420, every=1.0)
    assert killed, "the notifier was killed mid-burst"
    counts = stack.fd.tag_counts("sd-")
    assert [m for m in markers if counts.get(m) != 1] == []  # none lost, none doubled
    # No 429 after the first (our pace stays under the cap), and one create per ticket.
    assert stack.fd.throttled - throttled_before <= 1
    # Counted by the burst's own marker tags: a create owed by an earlier test of this
    # stack may still land during the burst (seen once: 201 with nothing doubled).
    answered = [
        c
        for c in stack.fd.calls_to("POST tickets")
        if c.status != 429 and any(m.encode() in c.request.body for m in markers)
    ]
    assert len(answered) == BURST
