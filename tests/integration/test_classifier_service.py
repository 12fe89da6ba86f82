"""The classifier service's handler on real PostgreSQL: decisions, trends, spikes, restarts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_classifier.bootstrap import SPEC, restore_engine
from socialdesk_classifier.engine import Engine
from socialdesk_classifier.handlers import Snapshots, classify_message
from socialdesk_classifier.nlp import ClassifierSettings
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_runtime.service import Runtime
from socialdesk_schemas import MessageClassified, MessageReceived, SpikeDetected, TrendDetected
from tests.support import clear_outbox, config_for_tests, envelope, outbox_events, service_store

pytestmark = pytest.mark.integration

# Spikes judged against a short learned baseline so a test can build one quickly.
FAST = ClassifierSettings.model_validate({"spikes": {"warmup_buckets": 5, "cooldown_seconds": 60}})


@dataclass
class Svc:
    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory
    clock: FakeClock
    model: Engine
    snapshots: Snapshots

    async def feed(self, event: MessageReceived) -> list[object]:
        async with self.uow_factory() as uow:
            await classify_message(event, uow, decider=self.model, clock=self.clock, snapshots=self.snapshots)
            await uow.commit()
        events = await outbox_events(self.engine)
        await clear_outbox(self.engine)
        return list(events)


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Svc]:
    async with service_store(fresh_db, SPEC) as (engine, uow_factory):
        yield Svc(engine, uow_factory, FakeClock(), Engine.load(FAST), Snapshots(every_seconds=30))


def message(
    clock: FakeClock, text: str, *, brand: str = "ourbus", followers: int = 50, kind: str = "mention"
) -> MessageReceived:
    return MessageReceived(
        **envelope(clock),
        message_id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        brand=brand,
        platform="x",
        kind=kind,
        platform_message_id=uuid.uuid4().hex,
        author={"platform_user_id": uuid.uuid4().hex[:8], "followers": followers},
        text=text,
        received_at=clock.now(),
        sent_at=clock.now(),
    )


async def test_decisions_carry_category_priority_and_reasons(svc: Svc) -> None:
    (safety,) = await svc.feed(message(svc.clock, "The driver is texting while driving on I-95, I'm scared"))
    assert isinstance(safety, MessageClassified)
    assert (safety.queue, safety.category, safety.priority) == ("cx", "safety", "critical")
    assert safety.reasons
    assert safety.classifier_version == "model-1"
    (collab,) = await svc.feed(
        message(svc.clock, "Hi! I'm a travel creator with 80k followers, open to a paid collab?")
    )
    assert isinstance(collab, MessageClassified)
    assert collab.queue == "marketing"
    (faq,) = await svc.feed(message(svc.clock, "Is there wifi on the bus to Boston?", kind="dm"))
    assert isinstance(faq, MessageClassified)
    assert faq.auto_reply == "wifi_power"


async def test_an_incident_burst_groups_posts_raises_a_trend_and_a_spike(svc: Svc) -> None:
    for i in range(12):  # a calm baseline: a few unrelated posts a minute
        svc.clock.advance(seconds=60)
        await svc.feed(message(svc.clock, f"Thanks for the smooth ride to Ithaca today #{i}"))
    texts = [
        "Our OurBus broke down on I-95 near Baltimore, nobody tells us anything",
        "Stuck on I-95 outside Baltimore, bus broke down an hour ago. Furious",
        "Bus broken down near Baltimore on 95, no AC, kids crying. Unacceptable",
        "I-95 Baltimore breakdown, we have been waiting forever, terrible service",
        "Anyone else on the broken down OurBus near Baltimore? This is a disaster",
        "Broke down on I95 by Baltimore AGAIN. Never booking again",
        "Still stuck on I-95 near Baltimore, the replacement bus is nowhere",
        "OurBus broken down on I-95 Baltimore, worst trip ever",
    ]
    seen: list[object] = []
    groups = set()
    for text in texts:
        svc.clock.advance(seconds=5)
        out = await svc.feed(message(svc.clock, text))
        seen += out
        groups |= {e.group_id for e in out if isinstance(e, MessageClassified)}
    assert len(groups) == 1, "eight posts about one breakdown share a group"
    trends = [e for e in seen if isinstance(e, TrendDetected)]
    spikes = [e for e in seen if isinstance(e, SpikeDetected)]
    assert len(trends) == 1
    assert trends[0].group_id in groups
    assert spikes, "a burst of negative posts is a spike against the calm baseline"
    assert spikes[0].negative_share > spikes[0].baseline_negative_share


async def test_a_restarted_service_keeps_its_incident_groups(svc: Svc, fresh_db: str) -> None:
    first = await svc.feed(message(svc.clock, "Bus broke down on I-95 near Baltimore, stuck"))
    group = next(e.group_id for e in first if isinstance(e, MessageClassified))
    svc.clock.advance(seconds=40)  # past the snapshot period: the next batch writes one
    await svc.feed(message(svc.clock, "Lovely driver on the Philly run"))
    svc.clock.advance(seconds=5)
    await svc.feed(
        message(svc.clock, "Also stuck on 95 near Baltimore, broken down bus")
    )  # after the snapshot

    # A new process: a fresh engine restored from the snapshot plus the replay of what came after.
    fresh = Engine.load(FAST)
    runtime = Runtime(
        service="classifier",
        settings=None,  # type: ignore[arg-type]
        config=config_for_tests(),
        engine=svc.engine,
        uow_factory=svc.uow_factory,
        clock=svc.clock,
        metrics=RuntimeMetrics.create("classifier-restart"),
    )
    replayed = await restore_engine(runtime, fresh, replay_limit=1000)
    assert replayed == 1
    svc.model = fresh
    svc.clock.advance(seconds=5)
    later = await svc.feed(message(svc.clock, "Third hour on I-95 near Baltimore, the bus broke down"))
    assert next(e.group_id for e in later if isinstance(e, MessageClassified)) == group
