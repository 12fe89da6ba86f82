"""Reconciliation through ingest's real bootstrap against the Meta fake: a customer
message that never arrived by webhook is backfilled once; one that did is not doubled;
our own messages and messages older than the lookback are left alone."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from socialdesk_ingest.bootstrap import SPEC
from socialdesk_ingest.domain.platforms import meta_signature
from socialdesk_ingest.extraction_worker import ExtractionWorker
from socialdesk_ingest.reconcile_worker import ReconcileWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import MessageReceived
from tests.fakes.meta import FakeMeta
from tests.support import TEST_ENV, Booted, booted, config_for_tests, uid

pytestmark = pytest.mark.integration

PAGE, IG = "730011223344556", "17841400000000001"


@pytest.fixture
def meta() -> Iterator[FakeMeta]:
    with FakeMeta(token=TEST_ENV["TEST_META_TOKEN"], pages={PAGE}, ig_accounts={IG}) as fake:
        yield fake


@pytest.fixture
async def svc(fresh_db: str, meta: FakeMeta) -> AsyncIterator[tuple[Booted, FakeClock]]:
    config = config_for_tests()
    config = config.model_copy(
        update={"platforms": config.platforms.model_copy(update={"graph_base_url": meta.url})}
    )
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock, config=config) as service:
        yield service, clock


async def extract(svc: Booted) -> list[MessageReceived]:
    (worker,) = (w for w in svc.parts.workers if isinstance(w, ExtractionWorker))
    while await worker.run_once():
        pass
    return [e for e in await svc.emitted() if isinstance(e, MessageReceived)]


async def test_messages_lost_by_the_webhook_are_backfilled_once(
    svc: tuple[Booted, FakeClock], meta: FakeMeta
) -> None:
    service, clock = svc
    user, delivered, lost, old = f"61{uid()}", f"m_{uid()}", f"m_{uid()}", f"m_{uid()}"
    now = clock.now()

    def at(ago: float) -> str:
        return (now - timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%S+0000")

    meta.add_conversation_message(
        PAGE, user_id=user, mid=old, text="from last week", created_time=at(7 * 86400)
    )
    meta.add_conversation_message(
        PAGE, user_id=user, mid=delivered, text="is my bus late?", created_time=at(120)
    )
    meta.add_conversation_message(
        PAGE, user_id=user, mid=f"m_{uid()}", text="Checking", created_time=at(100), from_account=True
    )
    meta.add_conversation_message(PAGE, user_id=user, mid=lost, text="hello??", created_time=at(60))

    raw = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE,
                    "time": 1,
                    "messaging": [
                        {
                            "sender": {"id": user},
                            "recipient": {"id": PAGE},
                            "timestamp": 1767225600050,
                            "message": {"mid": delivered, "text": "is my bus late?"},
                        }
                    ],
                }
            ],
        }
    ).encode()
    sig = meta_signature(raw, TEST_ENV["TEST_META_APP_SECRET"])
    assert (
        await service.client.post("/v1/webhooks/meta", content=raw, headers={"X-Hub-Signature-256": sig})
    ).status_code == 200
    (first,) = await extract(service)

    (poller,) = (w for w in service.parts.workers if isinstance(w, ReconcileWorker))
    assert await poller.run_once() == 1
    (backfilled,) = await extract(service)
    assert backfilled.platform_message_id == lost and backfilled.text == "hello??"
    assert backfilled.ticket_id == first.ticket_id and not backfilled.opens_ticket
    assert await poller.run_once() == 0  # found again next round: already stored
    assert await extract(service) == []
