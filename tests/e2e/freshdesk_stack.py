"""The Freshdesk end-to-end stack (issue 13), shared by the Freshdesk test modules through
the ``fd_stack`` fixture (tests/e2e/conftest.py): the five services as processes on their
own broker, the notifier pointed at the Freshdesk, Meta and Slack fakes, the Freshdesk
fake's Automation webhooks pointed at the notifier; and what those tests do with it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from socialdesk_runtime.embedded import EmbeddedKafka, EmbeddedPostgres
from socialdesk_runtime.stack.services import StackEndpoints, service_specs
from socialdesk_runtime.stack.supervisor import RestartPolicy, Supervisor
from tests.fakes.freshdesk import FakeFreshdesk
from tests.fakes.meta import FakeMeta
from tests.fakes.slack import FakeSlack
from tests.freshdesk_support import API_KEY, FD_AGENTS, FRESHDESK_ENV, GROUP_ID, WEBHOOK_SECRET, write_config
from tests.stack_support import service_databases, service_ports
from tests.support import TEST_ENV

__all__ = [
    "CREATE_CAP",
    "FD_AGENTS",
    "GROUP_ID",
    "FdStack",
    "desk_ticket",
    "fd_ticket_saying",
    "first_response_clock",
    "messenger_dm",
    "meta_sends",
    "started_fd_stack",
    "ticket_id_of",
    "wait_for",
]

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


@contextlib.contextmanager
def started_fd_stack(postgres: EmbeddedPostgres) -> Iterator[FdStack]:
    """The five services on their own broker and databases, with the three fakes."""
    root = Path(tempfile.mkdtemp(prefix="socialdesk-e2e-freshdesk-"))
    kafka = EmbeddedKafka(log_path=root / "tansu.log")
    kafka.start()
    urls = service_databases(postgres, "e2e_fd")
    ports = service_ports()
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
