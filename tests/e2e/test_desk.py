"""End to end: the agents' desk (issue 9) on the five services as processes. A customer
message goes in at intake; the assigner's read model, fed only by events, shows what the
customer wrote, how it was classified, the SLA clocks sla-monitor armed and the fate of
our reply as the notifier reports it; desk actions travel on to the other services."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

TOKENS = {"ob-ana": "tok-ana", "ob-ben": "tok-ben", "ob-dee": "tok-dee", "ob-lead": "tok-lead"}


def bearer(agent: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {TOKENS[agent]}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def post(intake: httpx.Client, text: str, *, name: str = "Maria Lopez") -> str:
    body = {
        "brand": "ourbus",
        "platform": "x",
        "kind": "dm",
        "platform_message_id": f"dm-{uuid.uuid4().hex}",
        "author": {"platform_user_id": f"user-{uuid.uuid4().hex[:8]}", "display_name": name, "followers": 40},
        "text": text,
    }
    response = intake.post("/v1/messages", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["ticket_id"])


def ticket(desk: httpx.Client, ticket_id: str) -> dict[str, Any] | None:
    response = desk.get(f"/v1/tickets/{ticket_id}", headers=bearer("ob-lead"))
    return response.json() if response.status_code == 200 else None


def test_the_desk_shows_the_conversation_and_its_fate_from_events_only(
    stack: Stack, intake: httpx.Client, desk: httpx.Client
) -> None:
    text = "My bus from Newark never came and nobody answers the phone"
    ticket_id = post(intake, text)
    page = wait_for(
        "the read model to hold the customer's words and the owner",
        lambda: (t := ticket(desk, ticket_id)) and t["agent_id"] and t["conversation"] and t,
    )
    assert page["conversation"][0]["text"] == text
    assert page["conversation"][0]["author"] == "Maria Lopez"
    assert page["classification"] is not None and page["classification"]["category"]
    owner = page["agent_id"]
    queue = desk.get("/v1/queue", headers=bearer(owner)).json()["tickets"]
    assert ticket_id in [t["ticket_id"] for t in queue]

    note = desk.post(
        f"/v1/tickets/{ticket_id}/notes",
        json={"text": "Checked GPS: bus broke down"},
        headers=bearer(owner, "e2e-note"),
    )
    assert note.status_code == 201, note.text
    reply = desk.post(
        f"/v1/tickets/{ticket_id}/reply",
        json={"text": "So sorry {customer_name}, a replacement bus leaves at 6pm."},
        headers=bearer(owner, "e2e-reply"),
    )
    assert reply.status_code == 202, reply.text
    again = desk.post(
        f"/v1/tickets/{ticket_id}/reply", json={"text": "different"}, headers=bearer(owner, "e2e-reply")
    )
    assert again.status_code == 422

    def delivered() -> dict[str, Any] | None:
        t = ticket(desk, ticket_id)
        replies = [c for c in (t or {}).get("conversation", []) if c["type"] == "reply"]
        return t if replies and replies[0]["delivery"] != "requested" else None

    # The notifier's outcome (sent through the platform, or failed with its reason) comes
    # back on outbound.deliveries; the SLA clocks come back on sla.events.
    page = wait_for("the reply's delivery state", delivered, timeout=45)
    (ours,) = [c for c in page["conversation"] if c["type"] == "reply"]
    assert ours["text"] == "So sorry Maria Lopez, a replacement bus leaves at 6pm."
    assert ours["delivery"] in ("local", "sent", "delivered", "read", "failed")
    # The clocks arrive as separate events: wait for the one asserted, not for any.
    page = wait_for(
        "the first-response clock",
        lambda: (
            (t := ticket(desk, ticket_id)) and "first_response" in {c["clock"] for c in t["sla"] or []} and t
        ),
    )
    assert {c["clock"] for c in page["sla"]} >= {"first_response"}
    assert [n["text"] for n in page["notes"]] == ["Checked GPS: bus broke down"]

    pending = desk.post(
        f"/v1/tickets/{ticket_id}/pending", json={"reason": "asked for booking"}, headers=bearer(owner)
    )
    assert pending.status_code == 200, pending.text
    done = desk.post(
        f"/v1/tickets/{ticket_id}/resolve",
        json={"category": "cancellation", "root_cause": "bus broke down; replacement sent"},
        headers=bearer(owner),
    )
    assert done.status_code == 200, done.text
    assert (
        desk.post(
            f"/v1/tickets/{ticket_id}/resolve", json={"root_cause": "again"}, headers=bearer(owner)
        ).status_code
        == 409
    )
    report = desk.get("/v1/reports/summary", params={"by": "agent"}, headers=bearer("ob-lead")).json()
    mine = next(r for r in report["rows"] if r["key"] == owner)
    assert mine["handled"] >= 1 and mine["root_causes"].get("cancellation", 0) >= 1


def test_the_browser_pages_are_served_by_the_running_assigner(stack: Stack, desk: httpx.Client) -> None:
    assert "Sign in to the desk" in desk.get("/desk").text
    assert desk.get("/desk/queue", follow_redirects=False).status_code == 303
    signed_in = desk.post("/desk", data={"token": "tok-lead"}, follow_redirects=False)
    assert signed_in.status_code == 303 and "httponly" in signed_in.headers["set-cookie"].lower()
    page = desk.get("/desk/queue")
    assert page.status_code == 200 and "Your queue" in page.text
    # the pages' API calls ride on the session (a change also needs the page's header)
    assert desk.get("/desk/v1/queue").json()["agent_id"] == "ob-lead"
    assert desk.post("/desk/signout", follow_redirects=False).status_code == 303
    assert desk.get("/desk/v1/queue").status_code == 401
    assert "/v1/queue" in desk.get("/openapi.json").text
