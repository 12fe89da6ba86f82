"""notifier through its real bootstrap, on real PostgreSQL, against the local Slack fake:
once, and only once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from socialdesk_notifier.bootstrap import SPEC
from socialdesk_notifier.tables import deliveries
from socialdesk_notifier.worker import DeliveryWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.topology import consumed_topics, wiring_problems
from socialdesk_schemas import (
    TOPICS,
    Event,
    NotificationDelivered,
    NotificationFailed,
    ReplyRequested,
    SlaWarning,
    SpikeDetected,
    TicketEscalated,
    TrendDetected,
)
from socialdesk_schemas.outbound import (
    DeliveryFailed,
    DeliverySucceeded,
    EscalationAcknowledged,
    OwnershipRequested,
    ReplyStatusChanged,
)
from socialdesk_schemas.platforms import ChannelHealthChanged
from tests.fakes.slack import FakeSlack
from tests.support import Booted, booted, config_for_tests, envelope

pytestmark = pytest.mark.integration

CHANNELS = ["C0OBLEAD", "C0OBMGR", "C0OBWARN", "C0OBCRISIS", "C0RAWARN", "C0RALEAD"]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token="xoxb-test", channels=CHANNELS) as fake:
        yield fake


@pytest.fixture
async def notifier(fresh_db: str, slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Booted]:
    async with booted(
        SPEC,
        fresh_db,
        clock=FakeClock(),
        config=config_for_tests({"TEST_SLACK_TOKEN": "xoxb-test"}),
        settings={
            "slack_base_url": slack.base_url,
            "local_sink_path": tmp_path / "sink.jsonl",
            "delivery_lease_seconds": 30,
            "give_up_after_hours": 1,
            # The test configuration carries Meta tokens (for ingest): never the real Graph API.
            "graph_base_url": "http://127.0.0.1:9",
            "x_base_url": "http://127.0.0.1:9",
        },
    ) as svc:
        yield svc


def worker_of(svc: Booted) -> DeliveryWorker:
    (worker,) = (w for w in svc.parts.workers if isinstance(w, DeliveryWorker))
    assert isinstance(worker, DeliveryWorker)
    return worker


def clock_of(svc: Booted) -> FakeClock:
    assert isinstance(svc.runtime.clock, FakeClock)
    return svc.runtime.clock


def escalated(svc: Booted, **over: object) -> TicketEscalated:
    clock = clock_of(svc)
    fields: dict[str, object] = {
        **envelope(clock),
        "brand": "ourbus",
        "platform": "x",
        "priority": "high",
        "from_level": "L1",
        "to_level": "L3",
        "to_agent_id": "ob-lead",
        "reason": "first_response SLA breached",
        "deadline": clock.now(),
    }
    fields.update(over)
    return TicketEscalated(**fields)


def recovered(svc: Booted) -> float:
    value = svc.runtime.metrics.registry.get_sample_value(
        "notifier_deliveries_recovered_total", {"channel": "slack"}
    )
    return value or 0.0


async def test_escalation_is_posted_once_to_the_level_channel_even_if_redelivered(
    notifier: Booted, slack: FakeSlack
) -> None:
    event = escalated(notifier)
    assert (await notifier.feed(event))["processed"] == 1
    assert (await notifier.feed(event))["duplicate"] == 1  # the same event delivered twice by Kafka
    worker = worker_of(notifier)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    (post,) = slack.posts
    assert post["channel"] == "C0OBLEAD"
    assert "<@U0FARAH>" in post["text"]
    assert post["metadata"]["event_payload"]["idempotency_key"].startswith(str(event.event_id))
    (delivered,) = await notifier.emitted()
    assert isinstance(delivered, NotificationDelivered)
    assert delivered.source_event_id == event.event_id
    assert delivered.channel == "slack"


async def test_it_reads_sla_replies_and_trends_and_writes_only_deliveries(notifier: Booted) -> None:
    # ticket.messages: customers' last messages (windows), echoes and receipts of our replies;
    # classified, assignments and activity: the ticket facts Slack messages show (issue 11).
    assert set(consumed_topics(notifier.parts.handlers)) >= {
        TOPICS.sla,
        TOPICS.replies,
        TOPICS.trends,
        TOPICS.messages,
        TOPICS.classified,
        TOPICS.assignments,
        TOPICS.activity,
    }
    outcomes: set[type[Event]] = {
        NotificationDelivered,
        NotificationFailed,
        DeliverySucceeded,
        DeliveryFailed,
        ReplyStatusChanged,
        EscalationAcknowledged,
        OwnershipRequested,
    }
    assert set(notifier.parts.emits) >= outcomes
    assert wiring_problems(SPEC.name, notifier.parts.handlers, notifier.parts.emits) == []


async def test_warnings_spikes_and_hot_topics_reach_their_brand_channels(
    notifier: Booted, slack: FakeSlack
) -> None:
    clock = clock_of(notifier)
    warning = SlaWarning(
        **envelope(clock),
        brand="rally",
        platform="x",
        metric="first_response",
        priority="high",
        deadline=clock.now(),
        agent_id="ra-hugo",
        remaining_seconds=600,
    )
    spike = SpikeDetected(
        **envelope(clock),
        brand="ourbus",
        severity="major",
        volume=30,
        baseline_volume=2.0,
        negative_share=0.7,
        baseline_negative_share=0.1,
        window_seconds=300,
        score=6.0,
    )
    trend = TrendDetected(**envelope(clock), brand="ourbus", group_id="g-1", volume=9, window_seconds=600)
    assert (await notifier.feed(warning, spike, trend))["processed"] == 3
    assert await worker_of(notifier).run_once() == 3
    by_channel = {post["channel"]: post["text"] for post in slack.posts}
    assert set(by_channel) == {"C0RAWARN", "C0OBCRISIS", "C0OBWARN"}
    assert "Hugo" in by_channel["C0RAWARN"]
    assert "Possible crisis" in by_channel["C0OBCRISIS"]
    assert "Hot topic" in by_channel["C0OBWARN"]


async def test_an_event_that_cannot_be_routed_is_dead_lettered_and_the_rest_delivered(
    notifier: Booted, slack: FakeSlack
) -> None:
    good, bad = escalated(notifier), escalated(notifier, brand="nosuchbrand")
    outcome = await notifier.feed(bad, good)
    assert (outcome["processed"], outcome["deadlettered"]) == (1, 1)
    (letter,) = await notifier.dead_letters()
    assert str(bad.event_id) in json.dumps(letter)
    assert await worker_of(notifier).run_once() == 1
    assert len(slack.posts) == 1


async def test_the_running_worker_is_woken_by_the_commit_and_sends(
    notifier: Booted, slack: FakeSlack
) -> None:
    worker = worker_of(notifier)
    task = asyncio.create_task(worker.run())
    try:
        await notifier.feed(escalated(notifier))
        async with asyncio.timeout(20):
            while not slack.posts:
                await asyncio.sleep(0.01)
    finally:
        worker.stop()
        await task
    assert slack.posts[0]["channel"] == "C0OBLEAD"


async def test_a_send_lost_in_a_crash_is_found_not_repeated(notifier: Booted, slack: FakeSlack) -> None:
    clock = clock_of(notifier)
    await notifier.feed(escalated(notifier))
    await worker_of(notifier).run_once()
    assert len(slack.posts) == 1
    # Pretend the process died after Slack answered but before the row said "sent".
    async with notifier.engine.begin() as conn:
        await conn.execute(update(deliveries).values(status="sending", lease_until=clock.now()))
    clock.advance(seconds=31)
    assert await worker_of(notifier).run_once() == 1
    assert len(slack.posts) == 1, "the earlier post was found in the channel history"
    assert recovered(notifier) == 1


async def test_rate_limited_post_is_retried_after_retry_after(notifier: Booted, slack: FakeSlack) -> None:
    clock, worker = clock_of(notifier), worker_of(notifier)
    slack.rate_limit_next(1, retry_after=7, method="chat.postMessage")
    await notifier.feed(escalated(notifier))
    await worker.run_once()
    assert slack.posts == []
    clock.advance(seconds=6)
    assert await worker.run_once() == 0, "not before Retry-After"
    clock.advance(seconds=1)
    await worker.run_once()
    assert len(slack.posts) == 1
    assert any(error == "ratelimited" for _, error in slack.errors())


async def test_permanent_slack_error_fails_the_delivery_and_says_so(
    notifier: Booted, slack: FakeSlack
) -> None:
    await notifier.feed(escalated(notifier, to_level="L4", to_agent_id="ob-mgr"))
    # Make the channel unknown: Slack answers HTTP 200 ok:false channel_not_found.
    async with notifier.engine.begin() as conn:
        await conn.execute(update(deliveries).values(destination="C0NOSUCH"))
    await worker_of(notifier).run_once()
    assert slack.posts == []
    (failed,) = await notifier.emitted()
    assert isinstance(failed, NotificationFailed)
    assert "channel_not_found" in failed.error
    assert failed.retryable is False


async def test_server_errors_are_retried_with_backoff_then_given_up_by_age(
    notifier: Booted, slack: FakeSlack
) -> None:
    # 503 without storing: the next attempt looks in the history (finds nothing) and re-posts.
    slack.fail_next(100, status=503, method="chat.postMessage")
    await notifier.feed(escalated(notifier))
    for _ in range(8):  # eight attempts within the hour: not given up (issue 7.3)
        await worker_of(notifier).run_once()
        clock_of(notifier).advance(seconds=450)
    async with notifier.engine.connect() as conn:
        status, attempts = (await conn.execute(select(deliveries.c.status, deliveries.c.attempts))).one()
    assert (status, attempts) == ("pending", 8)
    await worker_of(notifier).run_once()  # past give_up_after_hours (1 h)
    async with notifier.engine.connect() as conn:
        status, attempts = (await conn.execute(select(deliveries.c.status, deliveries.c.attempts))).one()
    assert (status, attempts) == ("failed", 9)
    (failed,) = await notifier.emitted()
    assert isinstance(failed, NotificationFailed)
    assert failed.retryable is True


async def test_customer_replies_go_to_the_labelled_local_sink(notifier: Booted, tmp_path: Path) -> None:
    reply = ReplyRequested(
        **envelope(clock_of(notifier)),
        reply_id=uuid.uuid4(),
        brand="ourbus",
        platform="whatsapp",
        kind="dm",
        recipient_platform_user_id="447700900123",
        text="Your bus leaves at 9:15 from gate 4.",
        origin="agent",
        agent_id="ob-ana",
    )
    await notifier.feed(reply)
    await worker_of(notifier).run_once()
    (line,) = (tmp_path / "sink.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["sink"].startswith("LOCAL SINK")
    assert record["destination"] == "447700900123"
    (delivered,) = await notifier.emitted()
    assert isinstance(delivered, NotificationDelivered)
    assert delivered.channel == "local"


async def test_server_error_after_slack_stored_the_post_does_not_post_twice(
    notifier: Booted, slack: FakeSlack
) -> None:
    # Slack stores the message, then answers 500: the answer is lost, the post is not.
    slack.fail_next(1, status=500, method="chat.postMessage", processed=True)
    await notifier.feed(escalated(notifier))
    await worker_of(notifier).run_once()
    assert len(slack.posts) == 1
    clock_of(notifier).advance(seconds=600)
    await worker_of(notifier).run_once()
    assert len(slack.posts) == 1, "the retry found the stored post in the channel history"
    (delivered,) = await notifier.emitted()
    assert isinstance(delivered, NotificationDelivered)


async def test_a_delivery_whose_lease_ran_out_before_its_turn_is_not_sent(
    notifier: Booted, slack: FakeSlack
) -> None:
    worker = worker_of(notifier)
    await notifier.feed(escalated(notifier))
    (claimed,) = await worker.claim()
    clock_of(notifier).advance(seconds=31)  # another worker may have reclaimed it meanwhile
    await worker.deliver(claimed)
    assert slack.posts == []
    assert await worker.run_once() == 1  # the next claim sends it, once
    assert len(slack.posts) == 1


async def test_a_429_proves_nothing_was_posted_so_the_retry_posts_without_reading_history(
    notifier: Booted, slack: FakeSlack
) -> None:
    # Issue 7 item 4: a history read that fails (e.g. no channels:history) must not keep a
    # page from ever going out when the earlier attempt was refused outright.
    slack.rate_limit_next(3, retry_after=1, method="chat.postMessage")
    await notifier.feed(escalated(notifier))
    for _ in range(4):
        await worker_of(notifier).run_once()
        clock_of(notifier).advance(seconds=2)
    assert len(slack.posts) == 1
    assert [c for c in slack.calls if c.route == "conversations.history"] == []
    async with notifier.engine.connect() as conn:
        status, throttles = (await conn.execute(select(deliveries.c.status, deliveries.c.throttles))).one()
    assert (status, throttles) == ("sent", 3)


async def test_a_channel_that_stops_warns_its_brand_in_slack_once(notifier: Booted, slack: FakeSlack) -> None:
    event = ChannelHealthChanged.model_validate(
        {
            **envelope(clock_of(notifier)),
            "brand": "ourbus",
            "platform": "whatsapp",
            "account_id": "408877665544332",
            "healthy": False,
            "problem": "token_expired",
            "error_code": 190,
            "detail": "Session has expired",
        }
    )
    await notifier.feed(event)
    await notifier.feed(event)  # redelivered: still one warning
    await worker_of(notifier).run_once()
    (post,) = slack.posts
    assert post["channel"] == "C0OBWARN"
    assert "OurBus whatsapp account `408877665544332`: its access token expired (code 190)" in post["text"]
    (delivered,) = await notifier.emitted()
    assert isinstance(delivered, NotificationDelivered)


async def test_when_slack_works_again_pages_backed_off_in_the_outage_go_at_once(
    notifier: Booted, slack: FakeSlack
) -> None:
    """A long outage grows a page's back-off to minutes; the first post that goes through
    afterwards brings every backed-off page forward (issue 7: Slack down 10 minutes)."""
    clock, worker = clock_of(notifier), worker_of(notifier)
    slack.fail_next(1000, status=503, method="chat.postMessage")
    await notifier.feed(escalated(notifier))
    for _ in range(10):  # ten failed attempts: the next is now minutes away
        await worker.run_once()
        async with notifier.engine.connect() as conn:
            due = (await conn.execute(select(deliveries.c.next_attempt_at))).scalar_one()
        clock.advance(seconds=max(0.0, (due - clock.now()).total_seconds()))
    await worker.run_once()
    async with notifier.engine.connect() as conn:
        due = (await conn.execute(select(deliveries.c.next_attempt_at))).scalar_one()
    assert (due - clock.now()).total_seconds() >= 256, "backed off for minutes"
    assert slack.posts == []
    slack.clear_faults()  # Slack is back: a new page goes through at once ...
    await notifier.feed(escalated(notifier, to_level="L4", to_agent_id="ob-mgr"))
    await worker.run_once()
    assert len(slack.posts) == 1
    await worker.run_once()  # ... and the backed-off one is due again right away
    assert len(slack.posts) == 2
