"""notifier on real PostgreSQL against the local Slack fake: once, and only once."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_notifier.bootstrap import SPEC
from socialdesk_notifier.enqueue import on_reply_requested, on_slack_event
from socialdesk_notifier.metrics import NotifierMetrics
from socialdesk_notifier.senders import LocalSink, SlackSender
from socialdesk_notifier.tables import deliveries
from socialdesk_notifier.worker import DeliveryWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_schemas import NotificationDelivered, NotificationFailed, ReplyRequested, TicketEscalated
from tests.fakes.slack import FakeSlack
from tests.support import config_for_tests, envelope, outbox_events, service_store

pytestmark = pytest.mark.integration


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token="xoxb-test", channels=["C0OBLEAD", "C0OBMGR", "C0OBWARN"]) as fake:
        yield fake


@dataclass
class Notifier:
    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory
    clock: FakeClock
    worker: DeliveryWorker
    metrics: NotifierMetrics

    async def consume(self, event: object) -> None:
        async with self.uow_factory() as uow:
            if isinstance(event, TicketEscalated):
                await on_slack_event(event, uow, config=config_for_tests(), clock=self.clock)
            elif isinstance(event, ReplyRequested):
                await on_reply_requested(event, uow, clock=self.clock)
            await uow.commit()


@pytest.fixture
async def notifier(fresh_db: str, slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Notifier]:
    clock = FakeClock()
    metrics = NotifierMetrics.create(CollectorRegistry())
    async with service_store(fresh_db, SPEC) as (engine, uow_factory):
        worker = DeliveryWorker(
            uow_factory=uow_factory,
            senders={"slack": SlackSender(token="xoxb-test", base_url=slack.base_url)},
            fallback=LocalSink(tmp_path / "sink.jsonl", channel="local"),
            clock=clock,
            metrics=metrics,
            lease_seconds=30,
            max_attempts=3,
        )
        yield Notifier(engine, uow_factory, clock, worker, metrics)


def escalated(clock: FakeClock, **over: object) -> TicketEscalated:
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
    return TicketEscalated(**fields)  # type: ignore[arg-type]


async def test_escalation_is_posted_once_to_the_level_channel_even_if_redelivered(
    notifier: Notifier, slack: FakeSlack
) -> None:
    event = escalated(notifier.clock)
    await notifier.consume(event)
    await notifier.consume(event)  # the same event delivered twice by Kafka
    assert await notifier.worker.run_once() == 1
    assert await notifier.worker.run_once() == 0
    (post,) = slack.posts
    assert post["channel"] == "C0OBLEAD"
    assert "<@U0FARAH>" in post["text"]
    assert post["metadata"]["event_payload"]["idempotency_key"].startswith(str(event.event_id))
    (delivered,) = await outbox_events(notifier.engine)
    assert isinstance(delivered, NotificationDelivered)
    assert delivered.source_event_id == event.event_id
    assert delivered.channel == "slack"


async def test_a_send_lost_in_a_crash_is_found_not_repeated(notifier: Notifier, slack: FakeSlack) -> None:
    await notifier.consume(escalated(notifier.clock))
    await notifier.worker.run_once()
    assert len(slack.posts) == 1
    # Pretend the process died after Slack answered but before the row said "sent".
    async with notifier.engine.begin() as conn:
        await conn.execute(update(deliveries).values(status="sending", lease_until=notifier.clock.now()))
    notifier.clock.advance(seconds=31)
    assert await notifier.worker.run_once() == 1
    assert len(slack.posts) == 1, "the earlier post was found in the channel history"
    assert notifier.metrics.recovered.labels(channel="slack")._value.get() == 1


async def test_rate_limited_post_is_retried_after_retry_after(notifier: Notifier, slack: FakeSlack) -> None:
    slack.rate_limit_next(1, retry_after=7, method="chat.postMessage")
    await notifier.consume(escalated(notifier.clock))
    await notifier.worker.run_once()
    assert slack.posts == []
    notifier.clock.advance(seconds=6)
    assert await notifier.worker.run_once() == 0, "not before Retry-After"
    notifier.clock.advance(seconds=1)
    await notifier.worker.run_once()
    assert len(slack.posts) == 1
    assert any(error == "ratelimited" for _, error in slack.errors())


async def test_permanent_slack_error_fails_the_delivery_and_says_so(
    notifier: Notifier, slack: FakeSlack
) -> None:
    await notifier.consume(escalated(notifier.clock, to_level="L4", to_agent_id="ob-mgr"))
    # Make the channel unknown: Slack answers HTTP 200 ok:false channel_not_found.
    async with notifier.engine.begin() as conn:
        await conn.execute(update(deliveries).values(destination="C0NOSUCH"))
    await notifier.worker.run_once()
    assert slack.posts == []
    (failed,) = await outbox_events(notifier.engine)
    assert isinstance(failed, NotificationFailed)
    assert "channel_not_found" in failed.error
    assert failed.retryable is False


async def test_server_errors_are_retried_with_backoff_then_given_up(
    notifier: Notifier, slack: FakeSlack
) -> None:
    slack.fail_next(100, status=503, method="chat.postMessage")
    await notifier.consume(escalated(notifier.clock))
    for _ in range(3):
        await notifier.worker.run_once()
        notifier.clock.advance(seconds=600)
    async with notifier.engine.connect() as conn:
        status, attempts = (await conn.execute(select(deliveries.c.status, deliveries.c.attempts))).one()
    assert (status, attempts) == ("failed", 3)
    (failed,) = await outbox_events(notifier.engine)
    assert isinstance(failed, NotificationFailed)
    assert failed.retryable is True


async def test_customer_replies_go_to_the_labelled_local_sink(notifier: Notifier, tmp_path: Path) -> None:
    reply = ReplyRequested(
        **envelope(notifier.clock),
        reply_id=uuid.uuid4(),
        brand="ourbus",
        platform="whatsapp",
        kind="dm",
        recipient_platform_user_id="447700900123",
        text="Your bus leaves at 9:15 from gate 4.",
        origin="agent",
        agent_id="ob-ana",
    )
    await notifier.consume(reply)
    await notifier.worker.run_once()
    (line,) = (tmp_path / "sink.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["sink"].startswith("LOCAL SINK")
    assert record["destination"] == "447700900123"
    (delivered,) = await outbox_events(notifier.engine)
    assert isinstance(delivered, NotificationDelivered)
    assert delivered.channel == "local"


async def test_server_error_after_slack_stored_the_post_does_not_post_twice(
    notifier: Notifier, slack: FakeSlack
) -> None:
    # Slack stores the message, then answers 500: the answer is lost, the post is not.
    slack.fail_next(1, status=500, method="chat.postMessage", processed=True)
    await notifier.consume(escalated(notifier.clock))
    await notifier.worker.run_once()
    assert len(slack.posts) == 1
    notifier.clock.advance(seconds=600)
    await notifier.worker.run_once()
    assert len(slack.posts) == 1, "the retry found the stored post in the channel history"
    (delivered,) = await outbox_events(notifier.engine)
    assert isinstance(delivered, NotificationDelivered)


async def test_a_delivery_whose_lease_ran_out_before_its_turn_is_not_sent(
    notifier: Notifier, slack: FakeSlack
) -> None:
    await notifier.consume(escalated(notifier.clock))
    (row,) = await notifier.worker._claim()
    notifier.clock.advance(seconds=31)  # another worker may have reclaimed it meanwhile
    await notifier.worker._deliver(row)
    assert slack.posts == []
    assert await notifier.worker.run_once() == 1  # the next claim sends it, once
    assert len(slack.posts) == 1
