"""Freshdesk end to end (issue 13): the five services as processes on their own broker, the
notifier pointed at the Freshdesk, Meta and Slack fakes, the Freshdesk fake's Automation
webhooks pointed at the notifier.

A signed Messenger DM becomes one Freshdesk ticket (requester by social identity, group,
priority, tags); the customer's next message an incoming note; an agent's reply typed in
Freshdesk reaches the customer once through the Send API (never Freshdesk's e-mail) and
stops the SLA clock; a breach raises the priority and notes the escalation; 500 tickets
in a burst under a 160-per-window create cap arrive once each, with no 429 after the
first, even when the notifier is SIGKILLed mid-burst between a create and its record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from socialdesk_notifier.freshdesk.domain.ops import marker_tag
from socialdesk_runtime.embedded import EmbeddedKafka, EmbeddedPostgres, free_port
from socialdesk_runtime.stack.services import STACK_SERVICES, StackEndpoints, service_specs
from socialdesk_runtime.stack.supervisor import RestartPolicy, Supervisor
from tests.fakes._http import Fault, Reply, Request
from tests.fakes.freshdesk import FakeFreshdesk
from tests.fakes.meta import FakeMeta
from tests.fakes.slack import FakeSlack
from tests.freshdesk_support import API_KEY, FD_AGENTS, FRESHDESK_ENV, GROUP_ID, WEBHOOK_SECRET, write_config
from tests.support import TEST_ENV

pytestmark = pytest.mark.e2e

PAGE = "730011223344556"  # ourbus's Page in the test configuration
META_TOKEN = TEST_ENV["TEST_META_TOKEN"]
META_SECRET = TEST_ENV["TEST_META_APP_SECRET"]
#: The fake's rate window: 160 creates per window is the plan's cap, a window lasts 3 s here.
WINDOW = 3.0
CREATE_CAP = 160


@dataclass
class FdStack:
    supervisor: Supervisor
    fd: FakeFreshdesk
    meta: FakeMeta
    ports: dict[str, int]

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def metric(self, name: str, labels: dict[str, str]) -> float:
        text = httpx.get(self.url("notifier", "/metrics"), timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
        return 0.0


@pytest.fixture(scope="module")
def fd_stack(postgres: EmbeddedPostgres) -> Iterator[FdStack]:
    root = Path(tempfile.mkdtemp(prefix="socialdesk-e2e-freshdesk-"))
    kafka = EmbeddedKafka(log_path=root / "tansu.log")
    kafka.start()
    suffix = uuid.uuid4().hex[:8]
    urls = {}
    for svc in STACK_SERVICES:
        name = f"e2e_fd_{svc.database}_{suffix}"
        postgres.create_database(name)
        urls[svc.name] = postgres.url(name)
    ports = {svc.name: free_port() for svc in STACK_SERVICES}
    fd = FakeFreshdesk(
        api_key=API_KEY,
        groups={GROUP_ID},
        agents={v: f"{k}@ourbus.example" for k, v in FD_AGENTS.items()},
        per_window=400,
        create_cap=CREATE_CAP,
        window_seconds=WINDOW,
        webhook_url=f"http://127.0.0.1:{ports['notifier']}/v1/freshdesk/webhook",
        webhook_secret=WEBHOOK_SECRET,
    ).start()
    meta = FakeMeta(token=META_TOKEN, pages={PAGE}).start()
    slack = FakeSlack(
        token="xoxb-e2e-fd", channels=["C0OBL1", "C0OBLEAD", "C0OBMGR", "C0TMT", "C0OBWARN"]
    ).start()
    env = {
        **TEST_ENV,
        **FRESHDESK_ENV,
        "TEST_SLACK_TOKEN": "xoxb-e2e-fd",
        "NOTIFIER_SLACK_BASE_URL": slack.base_url,
        "NOTIFIER_GRAPH_BASE_URL": meta.url,
        "NOTIFIER_X_BASE_URL": "http://127.0.0.1:9",
        "NOTIFIER_DELIVERY_LEASE_SECONDS": "10",
        "NOTIFIER_RECIPIENT_INTERVAL_SECONDS": "0",
        "NOTIFIER_LOCAL_SINK_PATH": str(root / "sink.jsonl"),
        "SLA_MONITOR_MAX_IDLE_SECONDS": "0.2",
        "LOG_LEVEL": "INFO",
    }
    # The burst's X tickets are not all escalated too (the breach test uses Messenger).
    config = write_config(
        root, fd.url, calm_platforms=["x"], window=WINDOW, create_cap=CREATE_CAP, requests_per_minute=400
    )
    specs = service_specs(
        StackEndpoints(kafka=kafka.bootstrap_servers, database_urls=urls),
        config_path=config,
        http_ports=ports,
        extra_env=env,
    )
    supervisor = Supervisor(specs, log_dir=root / "logs", policy=RestartPolicy(initial_backoff_s=0.2))
    supervisor.start()
    try:
        supervisor.wait_ready(timeout_s=90)
        yield FdStack(supervisor, fd, meta, ports)
    finally:
        supervisor.stop()
        fd.stop()
        meta.stop()
        slack.stop()
        kafka.stop()
        shutil.rmtree(root, ignore_errors=True)


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def messenger_dm(stack: FdStack, psid: str, text: str) -> None:
    """What Meta posts to ingest for a Messenger message, signed with the app secret."""
    now_ms = int(time.time() * 1000)
    body = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": now_ms,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": PAGE},
                        "timestamp": now_ms,
                        "message": {"mid": f"m_{uuid.uuid4().hex}", "text": text},
                    }
                ],
            }
        ],
    }
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(META_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    answer = httpx.post(
        stack.url("ingest", "/v1/webhooks/meta"),
        content=raw,
        headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def fd_ticket_saying(stack: FdStack, text: str) -> dict[str, Any] | None:
    found = [t for t in stack.fd.tickets.values() if text in t["description"]]
    return dict(found[0]) if len(found) == 1 else None


def ticket_id_of(ticket: dict[str, Any]) -> uuid.UUID:
    """Our ticket id, from the link back in the Freshdesk ticket's description."""
    link = ticket["description"].split("https://desk.example/tickets/")[1]
    return uuid.UUID(link[:36])


def meta_sends(stack: FdStack, text: str) -> list[Any]:
    return [s for s in stack.meta.sends if (s.payload.get("message") or {}).get("text") == text]


def desk_ticket(stack: FdStack, ticket_id: uuid.UUID) -> dict[str, Any]:
    answer = httpx.get(
        stack.url("assigner", f"/v1/tickets/{ticket_id}"),
        headers={"Authorization": "Bearer tok-lead"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def first_response_clock(page: dict[str, Any]) -> dict[str, Any]:
    sla = page["sla"]
    clocks = sla if isinstance(sla, list) else sla.get("clocks", [])
    return next(c for c in clocks if c.get("clock") == "first_response")


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
    assert [
        status for _payload, status in stack.fd.webhooks if _payload["ticket_id"] == str(ticket["id"])
    ] == [200]
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
