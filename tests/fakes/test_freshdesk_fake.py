"""The Freshdesk fake behaves like Freshdesk where the connector depends on it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest

from tests.fakes.freshdesk import FakeFreshdesk

KEY = "k-123"
GROUP = 77


@pytest.fixture
def fd() -> Iterator[FakeFreshdesk]:
    with FakeFreshdesk(api_key=KEY, groups={GROUP}, agents={5: "ana@x"}, per_window=6, create_cap=2) as fake:
        yield fake


def ticket(**over: Any) -> dict[str, Any]:
    return {
        "subject": "s",
        "description": "<p>d</p>",
        "unique_external_id": "x:1",
        "name": "Rina",
        "group_id": GROUP,
        "priority": 2,
        "status": 2,
        "tags": ["a"],
        **over,
    }


def test_basic_auth_with_the_api_key_and_freshdesk_error_shapes(fd: FakeFreshdesk) -> None:
    with httpx.Client(base_url=fd.url) as http:
        assert http.get("/api/v2/tickets", auth=("wrong", "X")).status_code == 401
        refused = http.post("/api/v2/tickets", auth=(KEY, "X"), json=ticket(group_id=999))
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["field"] == "group_id"
        made = http.post("/api/v2/tickets", auth=(KEY, "X"), json=ticket())
        assert made.status_code == 201 and made.headers["X-RateLimit-Total"] == "6"
        contact = http.get("/api/v2/contacts", auth=(KEY, "X"), params={"unique_external_id": "x:1"}).json()
        assert [c["id"] for c in contact] == [made.json()["requester_id"]]
        duplicate = http.post(
            "/api/v2/contacts", auth=(KEY, "X"), json={"name": "n", "unique_external_id": "x:1"}
        )
        assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["code"] == "duplicate_value"


def test_the_create_cap_and_the_window_answer_429_with_retry_after(fd: FakeFreshdesk) -> None:
    with httpx.Client(base_url=fd.url, auth=(KEY, "X")) as http:
        statuses = [http.post("/api/v2/tickets", json=ticket()).status_code for _ in range(3)]
        assert statuses == [201, 201, 429]
        assert int(http.get("/api/v2/tickets").headers["X-RateLimit-Remaining"]) == 2
        http.get("/api/v2/tickets")
        http.get("/api/v2/tickets")
        throttled = http.get("/api/v2/tickets")
        assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, Any], str | None]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Hook.received.append((body, self.headers.get("X-Socialdesk-Secret")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_agent_actions_fire_the_automation_webhook_with_the_secret() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        with FakeFreshdesk(
            api_key=KEY, groups={GROUP}, agents={5: "ana@x"}, webhook_url=url, webhook_secret="s3"
        ) as fd:
            made = httpx.post(f"{fd.url}/api/v2/tickets", auth=(KEY, "X"), json=ticket()).json()
            conversation = fd.agent_reply(made["id"], "<p>Hi</p>", agent_id=5)
            fd.agent_set_status(made["id"], 4, agent_id=5)
            fd.wait_webhooks()
            assert fd.emails == []  # a contact with no e-mail address gets none
        bodies = sorted((b["event"], b["conversation_id"], b["status"], s) for b, s in _Hook.received)
        assert bodies == [("reply", str(conversation["id"]), "Open", "s3"), ("status", "", "Resolved", "s3")]
    finally:
        server.shutdown()
