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
from socialdesk_schemas.platforms import MessageEdited
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


def whatsapp_change(value: dict[str, Any]) -> dict[str, Any]:
    """A WhatsApp Cloud API delivery: one ``messages`` change to our number, holding ``value``
    (contacts, messages, statuses)."""
    return {
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
                            **value,
                        },
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


async def test_half_an_emoji_or_a_nul_does_not_refuse_the_delivery(hooks: Hooks) -> None:
    """JSON allows a lone surrogate escape; orjson does not. The POST is taken and the
    broken character replaced, never the whole batch refused (and refused again on retry)."""
    mid = f"m_{uid()}"
    raw = json.dumps(dm(mid, text="bus late SPLIT end NUL")).encode()
    raw = raw.replace(b"SPLIT", b"\\ud83d").replace(b"NUL", b"\\u0000")
    r = await hooks.meta(raw)
    assert (r.status_code, r.text) == (200, "EVENT_RECEIVED")
    (event,) = await hooks.extract()
    assert isinstance(event, MessageReceived)
    assert event.text == "bus late \ufffd end "
    # Anywhere in the body: an edit's text beside another customer's new comment.
    top = f"880011_{uid()}"
    await hooks.meta(feed(comment(top, text="first")))
    await hooks.extract()
    body = json.dumps(
        feed(
            comment(top, verb="edited", text="first SPLIT"),
            comment(f"880011_{uid()}", author="9", text="mine"),
        )
    ).encode()
    assert (await hooks.meta(body.replace(b"SPLIT", b"\\ud83d\\u0000"))).status_code == 200
    events = await hooks.extract()
    assert sorted(type(e).__name__ for e in events) == ["MessageEdited", "MessageReceived"]
    edited = next(e for e in events if isinstance(e, MessageEdited))
    assert edited.text == "first \ufffd"


async def test_a_body_streamed_in_chunks_is_verified_and_stored_whole(hooks: Hooks) -> None:
    mid = f"m_{uid()}"
    raw = json.dumps(dm(mid, text="chunked " * 2000)).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(raw), 1000):
            yield raw[i : i + 1000]

    r = await hooks.svc.client.post(
        "/v1/webhooks/meta",
        content=chunks(),
        headers={"X-Hub-Signature-256": meta_signature(raw, META_SECRET)},
    )
    assert (r.status_code, r.text) == (200, "EVENT_RECEIVED")
    async with hooks.svc.engine.connect() as conn:
        stored = (await conn.exec_driver_sql("SELECT body FROM raw_deliveries")).scalars().all()
    assert [bytes(b) for b in stored] == [raw]


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
