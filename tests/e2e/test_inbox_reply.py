"""End to end: a reply typed in Meta's own inbox (Business Suite) reaches ingest as a signed
webhook and stops the ticket's SLA clock in sla-monitor, so nobody is paged for a ticket a
person already answered, while an unanswered one beside it escalates (decision 0305)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from socialdesk_ingest.domain.platforms import meta_signature
from tests.e2e.conftest import Stack
from tests.e2e.test_flow import LEAD, assigned_ticket, pages_for, wait_for
from tests.support import TEST_ENV

pytestmark = pytest.mark.e2e

PAGE = "730011223344556"  # OurBus's Facebook Page in the test configuration
BUSINESS_SUITE = 263902037430900  # the app_id Meta gives what a person types in its Page inbox


def customer_dm(intake: httpx.Client, psid: str, text: str) -> str:
    body = {
        "brand": "ourbus",
        "platform": "messenger",
        "kind": "dm",
        "platform_message_id": f"m-{uuid.uuid4().hex}",
        "author": {"platform_user_id": psid},
        "text": text,
    }
    response = intake.post("/v1/messages", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["ticket_id"])


def typed_in_business_suite(psid: str, text: str) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    echo = {
        "sender": {"id": PAGE},
        "recipient": {"id": psid},
        "timestamp": now_ms,
        "message": {"is_echo": True, "app_id": BUSINESS_SUITE, "mid": f"m-{uuid.uuid4().hex}", "text": text},
    }
    return {"object": "page", "entry": [{"id": PAGE, "time": now_ms, "messaging": [echo]}]}


def test_a_reply_typed_in_business_suite_stops_the_clock_and_pages_nobody(
    stack: Stack, intake: httpx.Client, desk: httpx.Client
) -> None:
    psid = f"61{uuid.uuid4().int % 10**13:013d}"
    answered = customer_dm(intake, psid, "Please send me a receipt for my trip to DC last week")
    unanswered = customer_dm(
        intake, f"62{uuid.uuid4().int % 10**13:013d}", "My bus to DC never came, still waiting"
    )
    wait_for("assignment", lambda: assigned_ticket(desk, answered))
    raw = json.dumps(typed_in_business_suite(psid, "Sent to your e-mail just now.")).encode()
    signature = meta_signature(raw, TEST_ENV["TEST_META_APP_SECRET"])
    hook = intake.post("/v1/webhooks/meta", content=raw, headers={"X-Hub-Signature-256": signature})
    assert hook.status_code == 200, hook.text

    def first_response() -> Any:
        return desk.get(f"/v1/tickets/{answered}", headers=LEAD).json().get("first_response_at")

    wait_for("the desk to see the answer", first_response, timeout=20)
    # The test policy gives 4 s: the unanswered ticket pages the OurBus lead channel...
    wait_for("escalation page", lambda: pages_for(stack, unanswered, "C0OBLEAD"), timeout=30)
    time.sleep(2.0)  # ...and the answered one would have by now, had its clock kept running
    assert pages_for(stack, answered, "C0OBLEAD") == []
    conversation = desk.get(f"/v1/tickets/{answered}", headers=LEAD).json()["conversation"]
    assert [c["from"] for c in conversation if c["type"] == "reply"] == ["platform_inbox"]
