"""X reconciliation through ingest's real bootstrap against the X fake: DMs and mentions
that never arrived by webhook are backfilled once; what the webhook delivered (before or
after the poll) is never doubled; our own items, retweets and items older than the
lookback are left alone; a 429 is obeyed until X's reset."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from socialdesk_ingest.bootstrap import SPEC
from socialdesk_ingest.domain.platforms import x_signature
from socialdesk_ingest.extraction_worker import ExtractionWorker
from socialdesk_ingest.reconcile_x_worker import XReconcileWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import load_config
from socialdesk_schemas import MessageReceived
from tests.fakes.x import FakeX
from tests.support import TEST_CONFIG, TEST_ENV, Booted, booted, uid

pytestmark = pytest.mark.integration

ME = "3300112233"  # OurBus on X in the test configuration
USER_TOKEN = "x-user-reconcile"
START = datetime.fromisoformat("2026-01-01T09:00:00+00:00")


class Clock:
    """The fake's rate-limit clock follows the service's fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock

    def __call__(self) -> float:
        return self._clock.now().timestamp()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def x(clock: FakeClock) -> Iterator[FakeX]:
    with FakeX(user_token=USER_TOKEN, user_id=ME, clock=Clock(clock)) as fake:
        yield fake


@pytest.fixture
async def svc(fresh_db: str, x: FakeX, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Booted]:
    data: dict[str, Any] = yaml.safe_load(TEST_CONFIG.read_text())
    data["brands"][0]["accounts"]["x"]["bearer_token_env"] = "TEST_X_USER_TOKEN"
    data.setdefault("platforms", {})["x_base_url"] = x.url
    path = tmp_path / "socialdesk.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    config = load_config(path, env={**TEST_ENV, "TEST_X_USER_TOKEN": USER_TOKEN})
    async with booted(SPEC, fresh_db, clock=clock, config=config) as service:
        yield service


def poller(svc: Booted) -> XReconcileWorker:
    (worker,) = (w for w in svc.parts.workers if isinstance(w, XReconcileWorker))
    return worker


async def extract(svc: Booted) -> list[MessageReceived]:
    (worker,) = (w for w in svc.parts.workers if isinstance(w, ExtractionWorker))
    while await worker.run_once():
        pass
    return [e for e in await svc.emitted() if isinstance(e, MessageReceived)]


async def deliver(svc: Booted, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    sig = x_signature(raw, TEST_ENV["TEST_X_CONSUMER_SECRET"])
    r = await svc.client.post("/v1/webhooks/x", content=raw, headers={"x-twitter-webhooks-signature": sig})
    assert r.status_code == 200, r.text


def dm_delivery(event_id: str, sender: str, text: str, at: datetime) -> dict[str, Any]:
    return {
        "for_user_id": ME,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": event_id,
                "created_timestamp": str(int(at.timestamp() * 1000)),
                "message_create": {
                    "target": {"recipient_id": ME},
                    "sender_id": sender,
                    "message_data": {"text": text},
                },
            }
        ],
        "users": {sender: {"id": sender, "name": "Sam Ortiz", "screen_name": "samo", "followers_count": 12}},
    }


def tweet_delivery(tweet_id: str, author: str, text: str, at: datetime) -> dict[str, Any]:
    return {
        "for_user_id": ME,
        "tweet_create_events": [
            {
                "id_str": tweet_id,
                "text": text,
                "timestamp_ms": str(int(at.timestamp() * 1000)),
                "user": {"id_str": author, "name": "Sam Ortiz", "screen_name": "samo"},
                "in_reply_to_status_id_str": None,
            }
        ],
    }


def ids() -> str:
    return str(2_007_000_000_000_000_000 + int(uid()[:8], 16))


async def test_dms_lost_by_the_webhook_are_backfilled_once(svc: Booted, x: FakeX, clock: FakeClock) -> None:
    customer = "4400556677"
    now = clock.now()
    delivered, lost = ids(), ids()
    x.add_dm(customer, "from last week", created_at=now - timedelta(days=7), event_id=ids())
    x.add_dm(
        customer,
        "Refund please",
        created_at=now - timedelta(seconds=120),
        event_id=delivered,
        username="samo",
        name="Sam Ortiz",
        followers=12,
    )
    x.add_dm(ME, "Checking now", created_at=now - timedelta(seconds=100), to=customer)
    x.add_dm(
        customer,
        "hello??",
        created_at=now - timedelta(seconds=60),
        event_id=lost,
        username="samo",
        name="Sam Ortiz",
        followers=12,
    )
    await deliver(svc, dm_delivery(delivered, customer, "Refund please", now - timedelta(seconds=120)))
    (first,) = await extract(svc)

    assert await poller(svc).run_once() == 1
    (backfilled,) = await extract(svc)
    assert (backfilled.platform, backfilled.kind, backfilled.platform_message_id) == ("x", "dm", lost)
    assert backfilled.text == "hello??" and backfilled.author.handle == "samo"
    assert backfilled.ticket_id == first.ticket_id and not backfilled.opens_ticket
    assert await poller(svc).run_once() == 0  # found again next round: already stored
    assert await extract(svc) == []
    # The webhook copy of the backfilled DM turns up late: still one message.
    await deliver(svc, dm_delivery(lost, customer, "hello??", now - timedelta(seconds=60)))
    assert await extract(svc) == []


async def test_mentions_lost_by_the_webhook_are_backfilled_without_retweets_or_our_own(
    svc: Booted, x: FakeX, clock: FakeClock
) -> None:
    now = clock.now()
    delivered, lost = ids(), ids()
    x.add_mention(
        "4400556677", "@ourbus parcel lost", created_at=now - timedelta(minutes=5), tweet_id=delivered
    )
    x.add_mention(
        "4400556677",
        "@ourbus any news?",
        created_at=now - timedelta(minutes=1),
        tweet_id=lost,
        in_reply_to=delivered,
        username="samo",
    )
    x.add_mention("5500667788", "RT @samo: @ourbus parcel lost", created_at=now, retweet_of=delivered)
    x.add_mention(ME, "@ourbus our own thread", created_at=now)
    x.add_mention("5500667788", "@ourbus too old", created_at=now - timedelta(days=3))
    await deliver(
        svc, tweet_delivery(delivered, "4400556677", "@ourbus parcel lost", now - timedelta(minutes=5))
    )
    (first,) = await extract(svc)

    assert await poller(svc).run_once() == 1
    (backfilled,) = await extract(svc)
    assert (backfilled.kind, backfilled.platform_message_id, backfilled.text) == (
        "mention",
        lost,
        "@ourbus any news?",
    )
    assert backfilled.ticket_id == first.ticket_id  # a reply joins its thread's ticket
    (call,) = [c for c in x.calls_to("users.mentions")][-1:]
    assert call.request.query["start_time"] == (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_a_dm_polled_while_its_webhook_copy_waits_is_ticketed_once(
    svc: Booted, x: FakeX, clock: FakeClock
) -> None:
    now = clock.now()
    event = ids()
    x.add_dm("4400556677", "where is my bus", created_at=now - timedelta(seconds=30), event_id=event)
    await deliver(svc, dm_delivery(event, "4400556677", "where is my bus", now - timedelta(seconds=30)))
    # Not extracted yet: the poll finds it not stored and keeps its own copy too.
    assert await poller(svc).run_once() == 1
    (only,) = await extract(svc)
    assert only.platform_message_id == event


async def test_rate_limited_reads_wait_for_the_reset(svc: Booted, x: FakeX, clock: FakeClock) -> None:
    x.add_dm("4400556677", "hi", created_at=clock.now() - timedelta(seconds=10))
    x.rate_limit_next(1, retry_after=120, kind="dm_read")
    assert await poller(svc).run_once() == 0
    reads = len(x.calls_to("dm_events.list"))
    assert await poller(svc).run_once() == 0  # before the reset: not called again
    assert len(x.calls_to("dm_events.list")) == reads
    clock.advance(seconds=121)
    assert await poller(svc).run_once() == 1
    assert len(await extract(svc)) == 1
