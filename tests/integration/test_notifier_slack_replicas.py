"""Two notifier replicas on one database keep one Slack channel's pace together (decision
0403): each built through the notifier's real bootstrap, both delivery workers running,
many alerts to one channel of a Slack fake that answers 429 to a second post within a
second, as Slack does."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from socialdesk_notifier.bootstrap import SPEC
from socialdesk_runtime.clock import SystemClock
from socialdesk_schemas import TicketEscalated
from tests.fakes.slack import FakeSlack
from tests.integration.test_notifier_slack_support import CHANNELS, slack_config, worker_of
from tests.support import Booted, booted, envelope

pytestmark = pytest.mark.integration

CHANNEL = "C0OBLEAD"
INTERVAL = 1.1  # the notifier's default spacing of one channel's posts
ALERTS = 8


@pytest.fixture
def paced_slack() -> Iterator[FakeSlack]:
    with FakeSlack(token="xoxb-test", channels=CHANNELS, post_interval=1.0) as fake:
        yield fake


@pytest.fixture
async def replicas(fresh_db: str, paced_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[list[Booted]]:
    settings = {
        "slack_base_url": paced_slack.base_url,
        "local_sink_path": tmp_path / "sink.jsonl",
        "slack_channel_interval_seconds": INTERVAL,
        "delivery_lease_seconds": 8,
        # Each replica claims a little at a time, so both have alerts of the channel in hand.
        "delivery_batch": 2,
        "poll_seconds": 0.05,
        "slack_digest_threshold": 1000,  # every alert is its own post here
        "graph_base_url": "http://127.0.0.1:9",
        "x_base_url": "http://127.0.0.1:9",
    }
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                booted(SPEC, fresh_db, clock=SystemClock(), config=slack_config(), settings=settings)
            )
            for _ in range(2)
        ]


def breach(svc: Booted) -> TicketEscalated:
    clock = svc.runtime.clock
    return TicketEscalated(
        **envelope(clock, uuid.uuid4()),
        brand="ourbus",
        platform="x",
        priority="high",
        from_level="L1",
        to_level="L3",
        to_agent_id="ob-lead",
        reason="first_response SLA breached",
        deadline=clock.now(),
    )


def sent_by(svc: Booted) -> float:
    value = svc.runtime.metrics.registry.get_sample_value(
        "notifier_deliveries_total", {"channel": "slack", "outcome": "sent"}
    )
    return value or 0.0


async def test_two_replicas_never_post_to_one_channel_faster_than_its_interval(
    replicas: list[Booted], paced_slack: FakeSlack
) -> None:
    first, second = replicas
    alerts = [breach(first) for _ in range(ALERTS)]
    await first.feed(*alerts)
    workers = [worker_of(svc) for svc in replicas]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        deadline = time.monotonic() + ALERTS * INTERVAL + 20
        while len(paced_slack.messages(CHANNEL)) < ALERTS and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        for w in workers:
            w.stop()
        await asyncio.gather(*tasks)

    assert paced_slack.throttled() == 0, "no post was answered 429"
    posted = paced_slack.messages(CHANNEL)
    landed = sorted(float(m["ts"]) for m in posted)
    gaps = [later - earlier for earlier, later in itertools.pairwise(landed)]
    # Slots are INTERVAL apart on the database's clock; the trip of each post to Slack
    # varies by milliseconds, so a gap may be a little shorter, never under Slack's second.
    assert min(gaps) >= INTERVAL - 0.1, f"posts {min(gaps):.3f} s apart"
    for alert in alerts:
        assert sum(str(alert.ticket_id) in json.dumps(m) for m in posted) == 1, "each alert posted once"
    assert sent_by(first) > 0 and sent_by(second) > 0, "both replicas posted to the channel"
