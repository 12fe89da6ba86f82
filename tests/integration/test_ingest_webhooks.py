"""ingest's platform webhooks against real PostgreSQL, booted through its real bootstrap:
handshakes, signatures, limits, durable acknowledgement, extraction exactly once,
threading, facts, and the database away."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from socialdesk_ingest.bootstrap import SPEC
from socialdesk_ingest.domain.platforms import meta_signature, x_crc_response, x_signature
from socialdesk_ingest.extraction_worker import ExtractionWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.db import create_engine
from socialdesk_schemas import Event, MessageReceived
from socialdesk_schemas.platforms import (
    MessageDeleted,
    MessageEdited,
    OwnMessageSeen,
    PlatformDeliveryReported,
)
from tests.support import TEST_ENV, Booted, booted, count, uid

pytestmark = pytest.mark.integration

PAGE = "730011223344556"
IG = "17841400000000001"
WA_PHONE = "408877665544332"
X_USER = "3300112233"
META_SECRET = TEST_ENV["TEST_META_APP_SECRET"]
X_SECRET = TEST_ENV["TEST_X_CONSUMER_SECRET"]


@dataclass
class Hooks:
    svc: Booted
    clock: FakeClock

    @property
    def worker(self) -> ExtractionWorker:
        (worker,) = (w for w in self.svc.parts.workers if isinstance(w, ExtractionWorker))
        return worker

    async def meta(
        self, body: Any, *, secret: str = META_SECRET, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sig = {"X-Hub-Signature-256": meta_signature(raw, secret)}
        return await self.svc.client.post(
            "/v1/webhooks/meta", content=raw, headers=sig if headers is None else headers
        )

    async def x(self, body: Any, *, secret: str = X_SECRET) -> httpx.Response:
        raw = json.dumps(body).encode()
        return await self.svc.client.post(
            "/v1/webhooks/x", content=raw, headers={"x-twitter-webhooks-signature": x_signature(raw, secret)}
        )

    async def extract(self) -> list[Event]:
        while await self.worker.run_once():
            pass
        return await self.svc.emitted()

    async def metric(self, name: str, **labels: str) -> float:
        text = generate_latest(self.svc.runtime.metrics.registry).decode()
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += sample.value
        return total


@pytest.fixture
async def hooks(fresh_db: str) -> AsyncIterator[Hooks]:
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock, settings={"conversation_idle_seconds": 3600}) as svc:
        yield Hooks(svc, clock)


def dm(
    mid: str, text: str = "Has my bus left?", sender: str = "6123456789012345", page: str = PAGE
) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [
            {
                "id": page,
                "time": 1767225600123,
                "messaging": [
                    {
                        "sender": {"id": sender},
                        "recipient": {"id": page},
                        "timestamp": 1767225600050,
                        "message": {"mid": mid, "text": text},
                    }
                ],
            }
        ],
    }


def feed(*values: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [
            {"id": PAGE, "time": 1767225800, "changes": [{"field": "feed", "value": v} for v in values]}
        ],
    }


def comment(
    comment_id: str,
    *,
    parent: str | None = None,
    verb: str = "add",
    author: str = "5550001112223",
    text: str = "Still no refund?",
) -> dict[str, Any]:
    post = f"{PAGE}_880011"
    return {
        "from": {"id": author, "name": "Dana Ruiz"},
        "item": "comment",
        "verb": verb,
        "post_id": post,
        "comment_id": comment_id,
        "parent_id": parent or post,
        "created_time": 1767225799,
        "message": text,
    }


# --- handshakes --------------------------------------------------------------------


async def test_meta_handshake_echoes_the_challenge_only_for_the_right_token(hooks: Hooks) -> None:
    ok = await hooks.svc.client.get(
        "/v1/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert ok.headers["content-type"].startswith("text/plain")
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "123"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "123"},
        {"hub.mode": "subscribe", "hub.challenge": "123"},
    ):
        refused = await hooks.svc.client.get("/v1/webhooks/meta", params=params)
        assert refused.status_code == 403 and "123" not in refused.text


async def test_x_crc_answers_with_the_consumer_secret_hmac(hooks: Hooks) -> None:
    r = await hooks.svc.client.get("/v1/webhooks/x", params={"crc_token": "challenge-abc"})
    assert r.status_code == 200
    assert r.json() == {"response_token": x_crc_response("challenge-abc", X_SECRET)}
    assert (await hooks.svc.client.get("/v1/webhooks/x")).status_code == 400


# --- bad input ---------------------------------------------------------------------


async def test_bad_signatures_are_refused_before_anything_is_stored(hooks: Hooks) -> None:
    body = dm(f"m_{uid()}")
    assert (await hooks.meta(body, secret="not-the-secret")).status_code == 401
    assert (await hooks.meta(body, headers={})).status_code == 401
    raw = json.dumps(body).encode()
    sha1 = {"X-Hub-Signature-256": "sha1=" + meta_signature(raw, META_SECRET)[7:]}
    assert (await hooks.meta(raw, headers=sha1)).status_code == 401
    assert (await hooks.x({"for_user_id": X_USER}, secret="nope")).status_code == 401
    assert await count(hooks.svc.engine, "raw_deliveries") == 0
    assert await hooks.metric("ingest_webhook_requests_total", platform="meta", outcome="unauthorized") == 3
    assert await hooks.metric("ingest_webhook_requests_total", platform="x", outcome="unauthorized") == 1


async def test_not_json_is_400_and_over_3_mib_is_413(hooks: Hooks) -> None:
    assert (await hooks.meta(b"{not json")).status_code == 400
    big = b'{"object":"page","entry":[],"pad":"' + b"a" * (3 * 1024 * 1024) + b'"}'
    assert (await hooks.meta(big)).status_code == 413

    async def streamed() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"a" * (1024 * 1024)

    r = await hooks.svc.client.post(
        "/v1/webhooks/meta", content=streamed(), headers={"X-Hub-Signature-256": "sha256=00"}
    )
    assert r.status_code == 413
    assert await count(hooks.svc.engine, "raw_deliveries") == 0
    # A body under the limit but over the generic intake's 1 MiB is fine for Meta.
    ok = dm(f"m_{uid()}", text="x" * (1024 * 1024 + 10))
    assert (await hooks.meta(ok)).status_code == 200


# --- durable ack, extraction exactly once ---------------------------------------------


async def test_signed_dm_is_stored_then_extracted_exactly_once(hooks: Hooks) -> None:
    mid = f"m_{uid()}"
    r = await hooks.meta(dm(mid))
    assert r.status_code == 200
    # Acknowledged = stored, before any extraction.
    assert await count(hooks.svc.engine, "raw_deliveries") == 1
    assert await count(hooks.svc.engine, "messages") == 0
    (event,) = await hooks.extract()
    assert isinstance(event, MessageReceived)
    assert (event.brand, event.platform, event.kind, event.platform_message_id) == (
        "ourbus",
        "messenger",
        "dm",
        mid,
    )
    assert event.text == "Has my bus left?" and event.opens_ticket
    # Meta retries the same body; then the same item arrives in another batch.
    assert (await hooks.meta(dm(mid))).status_code == 200
    other = dm(mid)
    other["entry"].append(dm(f"m_{uid()}", text="second")["entry"][0])
    assert (await hooks.meta(other)).status_code == 200
    events = await hooks.extract()
    assert [e.text for e in events if isinstance(e, MessageReceived)] == ["second"]
    assert all(isinstance(e, MessageReceived) for e in events)
    assert await count(hooks.svc.engine, "messages") == 2
    assert await hooks.metric("ingest_webhook_items_total", kind="duplicate") == 2


async def test_unknown_account_dashboard_test_and_broken_items_create_nothing(hooks: Hooks) -> None:
    assert (await hooks.meta(dm(f"m_{uid()}", page="999999999"))).status_code == 200
    assert (
        await hooks.meta({"object": "page", "entry": [{"id": "0", "time": 1, "changes": []}]})
    ).status_code == 200
    assert (await hooks.meta({"object": "user", "entry": []})).status_code == 200
    assert (await hooks.meta({"object": "page", "entry": []})).status_code == 200
    broken = dm("ignored")
    broken["entry"][0]["messaging"].insert(
        0, {"sender": {"id": "1"}, "recipient": {"id": PAGE}, "message": {"text": "no mid"}}
    )
    broken["entry"][0]["messaging"][1]["message"]["mid"] = f"m_{uid()}"
    assert (await hooks.meta(broken)).status_code == 200
    events = await hooks.extract()
    assert len(events) == 1 and isinstance(events[0], MessageReceived)  # the good item of the broken delivery
    assert await hooks.metric("ingest_webhook_items_ignored_total", reason="unknown_account") == 1
    assert await hooks.metric("ingest_webhook_items_ignored_total", reason="dashboard_test") == 1
    assert await hooks.metric("ingest_webhook_items_ignored_total", reason="unknown_object") == 1
    assert await hooks.metric("ingest_webhook_items_ignored_total", reason="missing_field") == 1
    assert await count(hooks.svc.engine, "raw_deliveries") == 5


# --- threading -------------------------------------------------------------------------


async def test_comment_threads_and_dms_find_their_tickets(hooks: Hooks) -> None:
    top, reply, other = f"880011_{uid()}", f"880011_{uid()}", f"880011_{uid()}"
    await hooks.meta(feed(comment(top)))
    await hooks.meta(feed(comment(reply, parent=top, author="777", text="same here")))
    await hooks.meta(feed(comment(other, text="another question")))
    await hooks.meta(dm(f"m_{uid()}", text="hello"))
    await hooks.meta(dm(f"m_{uid()}", text="again"))
    ev = [e for e in await hooks.extract() if isinstance(e, MessageReceived)]
    assert [e.kind for e in ev] == ["comment", "comment", "comment", "dm", "dm"]
    t_top, t_reply, t_other, t_dm1, t_dm2 = (e.ticket_id for e in ev)
    assert t_reply == t_top and not ev[1].opens_ticket  # a reply joins its thread's ticket
    assert t_other != t_top and ev[2].opens_ticket  # a new top-level comment opens one
    assert t_dm1 == t_dm2 and ev[3].opens_ticket and not ev[4].opens_ticket


async def test_x_mention_reply_chain_joins_the_first_tweets_ticket(hooks: Hooks) -> None:
    def tweet(tid: str, reply_to: str | None) -> dict[str, Any]:
        return {
            "for_user_id": X_USER,
            "tweet_create_events": [
                {
                    "id_str": tid,
                    "text": "@OurBus where is my bus",
                    "in_reply_to_status_id_str": reply_to,
                    "user": {"id_str": "4400556677", "screen_name": "samo", "name": "Sam"},
                    "timestamp_ms": "1767258900000",
                }
            ],
        }

    first, second = uid(), uid()
    assert (await hooks.x(tweet(first, None))).status_code == 200
    (opened,) = await hooks.extract()
    assert isinstance(opened, MessageReceived) and opened.opens_ticket
    await hooks.x(tweet(second, first))
    await hooks.x(tweet(uid(), second))  # a reply to the reply: still the same thread
    replies = await hooks.extract()
    assert len(replies) == 2 and all(isinstance(e, MessageReceived) for e in replies)
    assert all(e.ticket_id == opened.ticket_id and not e.opens_ticket for e in replies)  # type: ignore[union-attr]


# --- facts: echoes, receipts, statuses, edits, deletions --------------------------------


async def test_echoes_receipts_and_statuses_are_facts_on_the_conversations_ticket(hooks: Hooks) -> None:
    customer = "6123456789012345"
    await hooks.meta(dm(f"m_{uid()}", sender=customer))
    (received,) = await hooks.extract()
    echo_mid = f"m_{uid()}"
    messaging = [
        {
            "sender": {"id": PAGE},
            "recipient": {"id": customer},
            "timestamp": 1767225660200,
            "message": {
                "is_echo": True,
                "app_id": 1,
                "metadata": "sd:reply-42",
                "mid": echo_mid,
                "text": "Yes, today.",
            },
        },
        {
            "sender": {"id": customer},
            "recipient": {"id": PAGE},
            "delivery": {"mids": [echo_mid], "watermark": 1767225661000},
        },
        {
            "sender": {"id": customer},
            "recipient": {"id": PAGE},
            "timestamp": 1767225700400,
            "read": {"watermark": 1767225661000},
        },
        {
            "sender": {"id": PAGE},
            "recipient": {"id": customer},
            "timestamp": 1767225800000,
            "message": {
                "is_echo": True,
                "app_id": 263902037430900,
                "mid": f"m_{uid()}",
                "text": "typed in inbox",
            },
        },
    ]
    body = {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": messaging}]}
    await hooks.meta(body)
    await hooks.meta(body)  # retried: nothing doubles
    events = await hooks.extract()
    assert [type(e).__name__ for e in events] == [
        "OwnMessageSeen",
        "PlatformDeliveryReported",
        "PlatformDeliveryReported",
        "OwnMessageSeen",
    ]
    assert all(e.ticket_id == received.ticket_id for e in events)
    echo, delivered, read, typed = events
    assert (
        isinstance(echo, OwnMessageSeen)
        and echo.delivery_key == "sd:reply-42"
        and not echo.typed_in_platform_inbox
    )
    assert isinstance(delivered, PlatformDeliveryReported) and delivered.platform_message_ids == [echo_mid]
    assert isinstance(read, PlatformDeliveryReported) and read.status == "read" and read.watermark is not None
    assert isinstance(typed, OwnMessageSeen) and typed.typed_in_platform_inbox
    assert await count(hooks.svc.engine, "messages") == 1


async def test_whatsapp_failed_status_is_kept_and_counted(hooks: Hooks) -> None:
    body = {
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
                            "statuses": [
                                {
                                    "id": "wamid.HBgFakeOut02",
                                    "status": "failed",
                                    "timestamp": "1767312000",
                                    "recipient_id": "447700900123",
                                    "biz_opaque_callback_data": "sd:reply-7",
                                    "errors": [{"code": 131047, "title": "Window closed"}],
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    await hooks.meta(body)
    (failed,) = await hooks.extract()
    assert isinstance(failed, PlatformDeliveryReported)
    assert (failed.status, failed.error_code, failed.delivery_key) == ("failed", 131047, "sd:reply-7")
    assert await hooks.metric("ingest_whatsapp_failed_total", error_code="131047") == 1


async def test_comment_edit_and_removal_update_the_message_and_are_published(hooks: Hooks) -> None:
    cid = f"880011_{uid()}"
    await hooks.meta(feed(comment(cid)))
    (received,) = await hooks.extract()
    await hooks.meta(feed(comment(cid, verb="edited", text="Still no refund??")))
    await hooks.meta(feed(comment(cid, verb="remove")))
    await hooks.meta(feed(comment(f"880011_{uid()}", verb="remove")))  # never received: nothing
    edited, deleted = await hooks.extract()
    assert isinstance(edited, MessageEdited) and edited.text == "Still no refund??"
    assert isinstance(deleted, MessageDeleted)
    assert edited.ticket_id == deleted.ticket_id == received.ticket_id
    assert edited.message_id == received.message_id
    assert await hooks.metric("ingest_webhook_items_ignored_total", reason="change_of_unknown_message") == 1


async def test_media_only_whatsapp_message_is_a_readable_customer_message(hooks: Hooks) -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "301",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": WA_PHONE},
                            "contacts": [{"profile": {"name": "Priya N"}, "wa_id": "447700900123"}],
                            "messages": [
                                {
                                    "from": "447700900123",
                                    "id": f"wamid.{uid()}",
                                    "timestamp": "1767225602",
                                    "type": "location",
                                    "location": {
                                        "latitude": 40.75,
                                        "longitude": -73.99,
                                        "name": "Port Authority",
                                    },
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    await hooks.meta(body)
    (event,) = await hooks.extract()
    assert isinstance(event, MessageReceived) and event.text == "[location: Port Authority (40.75,-73.99)]"
    assert event.platform == "whatsapp" and event.author.display_name == "Priya N"


# --- the database away -------------------------------------------------------------------


async def test_database_away_answers_503_with_retry_after_and_stores_nothing(hooks: Hooks) -> None:
    real = hooks.svc.uow_factory.engine
    away = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_size=1)
    hooks.svc.uow_factory.engine = away
    try:
        r = await hooks.meta(dm(f"m_{uid()}"))
        assert r.status_code == 503 and int(r.headers["retry-after"]) > 0
        intake = await hooks.svc.client.post(
            "/v1/messages",
            headers={"X-API-Key": "key-one"},
            json={
                "brand": "ourbus",
                "platform": "x",
                "kind": "dm",
                "platform_message_id": uid(),
                "author": {"platform_user_id": "u1"},
                "text": "hello",
            },
        )
        assert intake.status_code == 503 and "retry-after" in intake.headers
    finally:
        hooks.svc.uow_factory.engine = real
        await away.dispose()
    assert await count(hooks.svc.engine, "raw_deliveries") == 0
    assert (await hooks.meta(dm(f"m_{uid()}"))).status_code == 200  # back: accepted again
