"""End to end: real-shaped, signed platform deliveries into the running stack; each
customer message comes out on ``ticket.messages`` exactly once, facts as facts, and
nothing for what is not a message."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from socialdesk_ingest.domain.platforms import meta_signature, x_signature
from socialdesk_schemas import Event, MessageReceived, decode_event
from socialdesk_schemas.platforms import OwnMessageSeen, PlatformDeliveryReported
from socialdesk_schemas.topics import TOPICS
from tests.e2e.conftest import Stack
from tests.support import TEST_ENV, log_ends

pytestmark = pytest.mark.e2e

PAGE, IG, WA_PHONE, X_USER = "730011223344556", "17841400000000001", "408877665544332", "3300112233"


def _meta(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(body).encode()
    sig = meta_signature(raw, TEST_ENV["TEST_META_APP_SECRET"])
    return client.post("/v1/webhooks/meta", content=raw, headers={"X-Hub-Signature-256": sig})


def _x(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(body).encode()
    sig = x_signature(raw, TEST_ENV["TEST_X_CONSUMER_SECRET"])
    return client.post("/v1/webhooks/x", content=raw, headers={"x-twitter-webhooks-signature": sig})


def _messenger(page: str, *messaging: dict[str, Any]) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": page, "time": 1767225600123, "messaging": list(messaging)}]}


def _dm(mid: str, sender: str, text: str) -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": PAGE},
        "timestamp": 1767225600050,
        "message": {"mid": mid, "text": text},
    }


async def _read_until(bootstrap: str, done: Any, timeout: float = 45.0) -> list[Event]:
    """``ticket.messages`` from the start until ``done(events)``, then to the end of every partition."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        parts = [TopicPartition(TOPICS.messages.name, p) for p in range(TOPICS.messages.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        events: list[Event] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done(events):
            assert loop.time() < deadline, f"ticket.messages: not all seen in time ({len(events)} events)"
            batch = await consumer.getmany(timeout_ms=300)
            events += [decode_event(r.value) for rs in batch.values() for r in rs if r.value is not None]
        end = await log_ends(bootstrap, parts)
        while [tp for tp in parts if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(timeout_ms=300)
            events += [decode_event(r.value) for rs in batch.values() for r in rs if r.value is not None]
        return events
    finally:
        await consumer.stop()


def test_signed_deliveries_become_each_customer_message_exactly_once(stack: Stack) -> None:
    run = uuid.uuid4().hex[:10]
    customer = f"61{run}"
    mid, echo_mid, ig_comment, wamid, x_dm, last = (
        f"{k}-{run}" for k in ("m", "echo", "igc", "wamid.in", "xdm", "last")
    )
    ig_body = {
        "object": "instagram",
        "entry": [
            {
                "id": IG,
                "time": 1767226100,
                "changes": [
                    {
                        "field": "comments",
                        "value": {
                            "id": ig_comment,
                            "from": {"id": f"11{run}", "username": "maple_fan"},
                            "text": "Price?",
                            "media": {"id": "17999888777666555", "media_product_type": "FEED"},
                        },
                    }
                ],
            }
        ],
    }
    wa_body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "301122334455667",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15557650100", "phone_number_id": WA_PHONE},
                            "contacts": [{"profile": {"name": "Priya N"}, "wa_id": f"44{run}"}],
                            "messages": [
                                {
                                    "from": f"44{run}",
                                    "id": wamid,
                                    "timestamp": "1767225600",
                                    "type": "text",
                                    "text": {"body": "Where is my bus?"},
                                }
                            ],
                            "statuses": [
                                {
                                    "id": f"wamid.out-{run}",
                                    "status": "failed",
                                    "timestamp": "1767312000",
                                    "recipient_id": f"44{run}",
                                    "errors": [{"code": 131047, "title": "Window closed"}],
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    x_body = {
        "for_user_id": X_USER,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": x_dm,
                "created_timestamp": "1767225600000",
                "message_create": {
                    "target": {"recipient_id": X_USER},
                    "sender_id": f"44{run}",
                    "message_data": {"text": "Refund please"},
                },
            }
        ],
        "users": {
            f"44{run}": {"id": f"44{run}", "name": "Sam Ortiz", "screen_name": "samo", "followers_count": 12}
        },
    }
    with httpx.Client(base_url=stack.url("ingest", ""), timeout=10) as client:
        first = _messenger(PAGE, _dm(mid, customer, "Has my bus left?"))
        assert _meta(client, first).status_code == 200
        assert _meta(client, first).status_code == 200  # Meta retried
        facts = _messenger(
            PAGE,
            {
                "sender": {"id": PAGE},
                "recipient": {"id": customer},
                "timestamp": 1767225660200,
                "message": {"is_echo": True, "metadata": "sd:reply-1", "mid": echo_mid, "text": "Yes"},
            },
            {
                "sender": {"id": customer},
                "recipient": {"id": PAGE},
                "delivery": {"mids": [echo_mid], "watermark": 1767225661000},
            },
            {
                "sender": {"id": customer},
                "recipient": {"id": PAGE},
                "timestamp": 1,
                "reaction": {"mid": echo_mid, "action": "react"},
            },
        )
        assert _meta(client, facts).status_code == 200
        # The same DM again, now batched with another delivery's entry.
        again = _messenger(PAGE, _dm(mid, customer, "Has my bus left?"), _dm(f"m2-{run}", customer, "Hello?"))
        assert _meta(client, again).status_code == 200
        assert _meta(client, ig_body).status_code == 200
        assert _meta(client, wa_body).status_code == 200
        assert _x(client, x_body).status_code == 200
        assert _x(client, {"for_user_id": X_USER, "favorite_events": [{"id": run}]}).status_code == 200
        assert (
            _meta(client, _messenger("999999999", _dm(f"unknown-{run}", customer, "hi"))).status_code == 200
        )
        assert (
            _meta(client, {"object": "page", "entry": [{"id": "0", "time": 1, "changes": []}]}).status_code
            == 200
        )
        forged = json.dumps(first).encode()
        assert (
            client.post(
                "/v1/webhooks/meta", content=forged, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}
            ).status_code
            == 401
        )
        assert _meta(client, _messenger(PAGE, _dm(last, customer, "last"))).status_code == 200

    def mine(e: Event) -> bool:
        return run in json.dumps(e.model_dump(mode="json"))

    events = [
        e
        for e in asyncio.run(
            _read_until(
                stack.kafka_bootstrap,
                lambda evs: any(
                    isinstance(e, MessageReceived) and e.platform_message_id == last for e in evs
                ),
            )
        )
        if mine(e)
    ]
    received = sorted(e.platform_message_id for e in events if isinstance(e, MessageReceived))
    assert received == sorted([mid, f"m2-{run}", ig_comment, wamid, x_dm, last])
    own = [e for e in events if isinstance(e, OwnMessageSeen)]
    assert [(e.platform_message_id, e.delivery_key) for e in own] == [(echo_mid, "sd:reply-1")]
    reports = sorted((e.status, e.error_code) for e in events if isinstance(e, PlatformDeliveryReported))
    assert reports == [("delivered", None), ("failed", 131047)]
    tickets = {e.platform_message_id: e.ticket_id for e in events if isinstance(e, MessageReceived)}
    assert (
        tickets[mid] == tickets[f"m2-{run}"] == tickets[last] == own[0].ticket_id
    )  # one DM thread, one ticket
    assert len(events) == 6 + 1 + 2
