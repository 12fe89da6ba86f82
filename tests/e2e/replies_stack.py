"""The stack the reply tests run on (:mod:`tests.e2e.test_replies`): the five services as
processes on their own broker, the notifier pointed at the Meta Graph and X fakes; and what
those tests send it (``ReplyRequested``, a customer's message) and read back (Meta sends,
the notifier's metrics)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from socialdesk_runtime.embedded import EmbeddedKafka, EmbeddedPostgres
from socialdesk_runtime.stack.services import StackEndpoints, service_specs
from socialdesk_runtime.stack.supervisor import RestartPolicy, Supervisor
from socialdesk_schemas import Event, MessageReceived, ReplyRequested, encode_event, topic_for_event
from tests.fakes.meta import FakeMeta
from tests.fakes.slack import FakeSlack
from tests.fakes.x import FakeX
from tests.stack_support import service_databases, service_ports
from tests.support import TEST_CONFIG, TEST_ENV

PAGE, IG, PHONE, X_USER = "730011223344556", "17841400000000001", "408877665544332", "3300112233"
META_TOKEN, X_TOKEN, META_SECRET = "EAAG-e2e", "x-user-e2e", "e2e-meta-app-secret"


@dataclass
class ReplyStack:
    supervisor: Supervisor
    meta: FakeMeta
    x: FakeX
    ports: dict[str, int]
    kafka: str

    def metric(self, name: str, labels: dict[str, str]) -> float:
        text = httpx.get(f"http://127.0.0.1:{self.ports['notifier']}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
        return 0.0


def _config(root: Path) -> Path:
    data: dict[str, Any] = yaml.safe_load(TEST_CONFIG.read_text())
    data["brands"][0]["accounts"] = {
        "facebook": {
            "page_id": PAGE,
            "page_token_env": "E2E_PAGE_TOKEN",
            "app_secret_env": "E2E_META_SECRET",
        },
        "instagram": {"account_id": IG, "access_token_env": "E2E_META_TOKEN"},
        "whatsapp": {"phone_number_id": PHONE, "access_token_env": "E2E_META_TOKEN"},
        "x": {"user_id": X_USER, "bearer_token_env": "E2E_X_TOKEN"},
    }
    path = root / "socialdesk.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


@contextmanager
def reply_stack(postgres: EmbeddedPostgres) -> Iterator[ReplyStack]:
    """Five services as processes on their own broker and databases, the notifier
    pointed at the Meta Graph and X fakes (and a Slack fake); stopped on exit."""
    root = Path(tempfile.mkdtemp(prefix="socialdesk-e2e-replies-"))
    kafka = EmbeddedKafka(log_path=root / "tansu.log")
    kafka.start()
    urls = service_databases(postgres, "e2e_r")
    ports = service_ports()
    meta = FakeMeta(token=META_TOKEN, pages={PAGE}, ig_accounts={IG}, phone_numbers={PHONE}).start()
    x = FakeX(user_token=X_TOKEN, user_id=X_USER).start()
    slack = FakeSlack(
        token="xoxb-e2e-replies", channels=["C0OBL1", "C0OBLEAD", "C0OBMGR", "C0TMT", "C0OBWARN"]
    )
    slack.start()
    env = {
        **TEST_ENV,
        "TEST_SLACK_TOKEN": "xoxb-e2e-replies",
        "NOTIFIER_SLACK_BASE_URL": slack.base_url,
        "E2E_PAGE_TOKEN": META_TOKEN,
        "E2E_META_TOKEN": META_TOKEN,
        "E2E_X_TOKEN": X_TOKEN,
        "E2E_META_SECRET": META_SECRET,
        "NOTIFIER_GRAPH_BASE_URL": meta.url,
        "NOTIFIER_X_BASE_URL": x.url,
        "NOTIFIER_DELIVERY_LEASE_SECONDS": "3",
        "NOTIFIER_RECIPIENT_INTERVAL_SECONDS": "0",
        # A lost send waits this long for its echo: longer than any test here.
        "NOTIFIER_ECHO_WAIT_SECONDS": "600",
        "NOTIFIER_LOCAL_SINK_PATH": str(root / "sink.jsonl"),
        "LOG_LEVEL": "INFO",
    }
    specs = service_specs(
        StackEndpoints(kafka=kafka.bootstrap_servers, database_urls=urls),
        config_path=_config(root),
        http_ports=ports,
        extra_env=env,
    )
    supervisor = Supervisor(specs, log_dir=root / "logs", policy=RestartPolicy(initial_backoff_s=0.2))
    supervisor.start()
    try:
        supervisor.wait_ready(timeout_s=90)
        yield ReplyStack(supervisor, meta, x, ports, kafka.bootstrap_servers)
    finally:
        supervisor.stop()
        meta.stop()
        x.stop()
        slack.stop()
        kafka.stop()
        shutil.rmtree(root, ignore_errors=True)


def publish(stack: ReplyStack, *events: Event) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all")
        await producer.start()
        try:
            for event in events:
                topic = topic_for_event(event)
                await producer.send_and_wait(
                    topic.name, key=str(event.ticket_id).encode(), value=encode_event(event)
                )
        finally:
            await producer.stop()

    asyncio.run(run())


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _envelope() -> dict[str, Any]:
    return {
        "producer": "test",
        "occurred_at": datetime.now(UTC),
        "ticket_id": uuid.uuid4(),
        "correlation_id": uuid.uuid4(),
    }


def reply(platform: str, kind: str, recipient: str, in_reply_to: str | None = None) -> ReplyRequested:
    return ReplyRequested.model_validate(
        {
            **_envelope(),
            "reply_id": uuid.uuid4(),
            "brand": "ourbus",
            "platform": platform,
            "kind": kind,
            "recipient_platform_user_id": recipient,
            "in_reply_to_platform_message_id": in_reply_to,
            "text": f"Your bus leaves at 9:15 ({uuid.uuid4().hex[:8]}).",
            "origin": "agent",
            "agent_id": "ob-ana",
        }
    )


def customer_wrote(platform: str, user: str, *, ago: timedelta) -> MessageReceived:
    at = datetime.now(UTC) - ago
    return MessageReceived.model_validate(
        {
            **_envelope(),
            "message_id": uuid.uuid4(),
            "conversation_id": uuid.uuid4(),
            "customer_id": uuid.uuid4(),
            "brand": "ourbus",
            "platform": platform,
            "kind": "dm",
            "platform_message_id": f"in-{uuid.uuid4().hex[:8]}",
            "author": {"platform_user_id": user},
            "text": "Hello?",
            "received_at": at,
            "sent_at": at,
        }
    )


def meta_sends_with(stack: ReplyStack, text: str) -> list[Any]:
    def has(payload: dict[str, Any]) -> bool:
        message = payload.get("message")
        body = (payload.get("text") or {}).get("body") if isinstance(payload.get("text"), dict) else None
        return text in (message if isinstance(message, str) else (message or {}).get("text", ""), body)

    return [s for s in stack.meta.sends if has(s.payload)]
