"""One customer across channels (seed 004): identities linked and unlinked through the
authenticated API, and a linked customer's new message joining their open ticket."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from socialdesk_ingest.bootstrap import SPEC
from socialdesk_ingest.domain.platforms import meta_signature
from socialdesk_ingest.extraction_worker import ExtractionWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import MessageReceived
from socialdesk_schemas.platforms import CustomerLinked, CustomerUnlinked
from tests.integration.test_ingest_webhooks import whatsapp_change
from tests.support import TEST_ENV, Booted, booted, uid

pytestmark = pytest.mark.integration

PAGE, WA_PHONE = "730011223344556", "408877665544332"
ANA = {"Authorization": "Bearer tok-ana"}


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[tuple[Booted, FakeClock]]:
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock, settings={"conversation_idle_seconds": 3600}) as service:
        yield service, clock


async def deliver(svc: Booted, body: dict[str, Any]) -> MessageReceived:
    raw = json.dumps(body).encode()
    sig = meta_signature(raw, TEST_ENV["TEST_META_APP_SECRET"])
    assert (
        await svc.client.post("/v1/webhooks/meta", content=raw, headers={"X-Hub-Signature-256": sig})
    ).status_code == 200
    (worker,) = (w for w in svc.parts.workers if isinstance(w, ExtractionWorker))
    while await worker.run_once():
        pass
    (event,) = await svc.emitted()
    assert isinstance(event, MessageReceived)
    return event


def messenger(sender: str, text: str) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": 1,
                "messaging": [
                    {
                        "sender": {"id": sender},
                        "recipient": {"id": PAGE},
                        "timestamp": 1767225600050,
                        "message": {"mid": f"m_{uid()}", "text": text},
                    }
                ],
            }
        ],
    }


def whatsapp(phone: str, text: str) -> dict[str, Any]:
    return whatsapp_change(
        {
            "contacts": [{"profile": {"name": "Haruto"}, "wa_id": phone}],
            "messages": [
                {
                    "from": phone,
                    "id": f"wamid.{uid()}",
                    "timestamp": "1767225600",
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
    )


async def test_a_linked_customers_new_message_joins_their_open_ticket_until_unlinked(
    svc: tuple[Booted, FakeClock],
) -> None:
    service, clock = svc
    psid, phone = f"61{uid()}", f"81{uid()}"
    old = await deliver(service, whatsapp(phone, "Last month's trip"))
    clock.advance(seconds=2 * 86400)
    today = await deliver(service, messenger(psid, "My refund for today's bus?"))
    assert today.opens_ticket and today.ticket_id != old.ticket_id

    refused = await service.client.post(
        "/v1/customers/links", json={"customer_ids": [str(today.customer_id), str(old.customer_id)]}
    )
    assert refused.status_code == 401
    unknown = await service.client.post(
        "/v1/customers/links", headers=ANA, json={"customer_ids": [str(today.customer_id), str(uuid.uuid4())]}
    )
    assert unknown.status_code == 404
    r = await service.client.post(
        "/v1/customers/links",
        headers=ANA,
        json={"customer_ids": [str(today.customer_id), str(old.customer_id)], "reason": "same booking 5512"},
    )
    assert r.status_code == 200, r.text
    (linked,) = await service.emitted()
    assert isinstance(linked, CustomerLinked) and linked.linked_by == "ob-ana"
    assert set(linked.customer_ids) == {today.customer_id, old.customer_id}
    profile = await service.client.get(f"/v1/customers/{old.customer_id}", headers=ANA)
    assert {i["platform"] for i in profile.json()["identities"]} == {"messenger", "whatsapp"}

    clock.advance(seconds=600)
    joined = await deliver(service, whatsapp(phone, "Sending the booking number here"))
    assert joined.ticket_id == today.ticket_id and not joined.opens_ticket

    assert (
        await service.client.delete(f"/v1/customers/links/{old.customer_id}", headers=ANA)
    ).status_code == 200
    (unlinked,) = await service.emitted()
    assert isinstance(unlinked, CustomerUnlinked) and unlinked.customer_id == old.customer_id
    clock.advance(seconds=4000)  # the WhatsApp thread is idle again: it opens its own ticket now
    await deliver(service, messenger(psid, "still here"))  # keeps the Messenger ticket open
    alone = await deliver(service, whatsapp(phone, "new question"))
    assert alone.opens_ticket and alone.ticket_id != today.ticket_id


async def test_the_same_phone_on_whatsapp_links_the_customer_by_rule(svc: tuple[Booted, FakeClock]) -> None:
    service, clock = svc
    digits = f"4477{uid()[:7].translate(str.maketrans('abcdef', '123456'))}"
    booking = await service.client.post(
        "/v1/messages",
        headers={"X-API-Key": "key-one"},
        json={
            "brand": "ourbus",
            "platform": "generic",
            "kind": "dm",
            "platform_message_id": f"bk-{uid()}",
            "author": {
                "platform_user_id": f"booking-{uid()}",
                "phone": f"+{digits[:2]} {digits[2:6]} {digits[6:]}",
            },
            "text": "Booking 5512: seat change please",
        },
    )
    assert booking.status_code == 202, booking.text
    (first,) = await service.emitted()
    clock.advance(seconds=60)
    events_before = await deliver_all(service, whatsapp(digits, "It's me again, about booking 5512"))
    linked = [e for e in events_before if isinstance(e, CustomerLinked)]
    received = [e for e in events_before if isinstance(e, MessageReceived)]
    assert len(linked) == 1 and linked[0].linked_by == "rule:same_phone"
    assert received[0].ticket_id == first.ticket_id and not received[0].opens_ticket


async def deliver_all(svc: Booted, body: dict[str, Any]) -> list[Any]:
    raw = json.dumps(body).encode()
    sig = meta_signature(raw, TEST_ENV["TEST_META_APP_SECRET"])
    assert (
        await svc.client.post("/v1/webhooks/meta", content=raw, headers={"X-Hub-Signature-256": sig})
    ).status_code == 200
    (worker,) = (w for w in svc.parts.workers if isinstance(w, ExtractionWorker))
    while await worker.run_once():
        pass
    return await svc.emitted()
