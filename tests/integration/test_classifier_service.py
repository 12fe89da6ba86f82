"""The classifier service through its real bootstrap on real PostgreSQL: decisions, trends,
spikes, restarts, the rules engine and a poison message in a batch."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from socialdesk_classifier.bootstrap import SPEC
from socialdesk_runtime.clock import Clock, FakeClock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_schemas import MessageClassified, MessageReceived, SpikeDetected, TrendDetected
from tests.support import Booted, booted, config_for_tests, count, envelope

pytestmark = pytest.mark.integration


def fast_config() -> SocialdeskConfig:
    """Spikes judged against a short learned baseline, so a test can build one quickly."""
    return config_for_tests().model_copy(
        update={"classifier": {"spikes": {"warmup_buckets": 5, "cooldown_seconds": 60}}}
    )


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=fast_config()) as service:
        yield service


def message(
    clock: Clock, text: str, *, brand: str = "ourbus", followers: int = 50, kind: str = "mention"
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


def metric(svc: Booted, name: str, **labels: str) -> float:
    return svc.runtime.metrics.registry.get_sample_value(name, labels) or 0.0


async def classify(svc: Booted, *messages: MessageReceived) -> list[object]:
    await svc.feed(*messages)
    return list(await svc.emitted())


async def test_decisions_carry_category_priority_and_reasons(svc: Booted) -> None:
    (safety,) = await classify(
        svc, message(svc.runtime.clock, "The driver is texting while driving on I-95, I'm scared")
    )
    assert isinstance(safety, MessageClassified)
    assert (safety.queue, safety.category, safety.priority) == ("cx", "safety", "critical")
    assert safety.reasons
    assert safety.classifier_version == "model-1"
    clock = svc.runtime.clock
    collab, faq = await classify(
        svc,
        message(clock, "Hi! I'm a travel creator with 80k followers, open to a paid collab?"),
        message(clock, "Is there wifi on the bus to Boston?", kind="dm"),
    )
    assert isinstance(collab, MessageClassified)
    assert collab.queue == "marketing"
    assert isinstance(faq, MessageClassified)
    assert faq.auto_reply == "wifi_power"
    assert await count(svc.engine, "classifications") == 3
    assert metric(svc, "classifier_decisions_total", queue="cx", priority="critical") == 1


async def test_a_redelivered_message_is_not_classified_twice(svc: Booted) -> None:
    received = message(svc.runtime.clock, "are pets allowed?", kind="dm")
    assert len(await classify(svc, received)) == 1
    counts = await svc.feed(received)
    assert counts.get("duplicate") == 1
    assert await svc.emitted() == []


async def test_an_incident_burst_groups_posts_raises_a_trend_and_a_spike(svc: Booted) -> None:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    for i in range(12):  # a calm baseline: a few unrelated posts a minute
        clock.advance(seconds=60)
        await classify(svc, message(clock, f"Thanks for the smooth ride to Ithaca today #{i}"))
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
    for text in texts:
        clock.advance(seconds=5)
        seen += await classify(svc, message(clock, text))
    groups = {e.group_id for e in seen if isinstance(e, MessageClassified)}
    assert len(groups) == 1, "eight posts about one breakdown share a group"
    trends = [e for e in seen if isinstance(e, TrendDetected)]
    spikes = [e for e in seen if isinstance(e, SpikeDetected)]
    assert len(trends) == 1
    assert trends[0].group_id in groups
    assert spikes, "a burst of negative posts is a spike against the calm baseline"
    assert spikes[0].negative_share > spikes[0].baseline_negative_share
    assert metric(svc, "classifier_trends_total") == 1
    assert {type(e) for e in seen} == set(svc.parts.emits), "bootstrap declares what it publishes"


async def test_a_restarted_service_keeps_its_incident_groups(fresh_db: str) -> None:
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock, config=fast_config()) as first:
        out = await classify(first, message(clock, "Bus broke down on I-95 near Baltimore, stuck"))
        group = next(e.group_id for e in out if isinstance(e, MessageClassified))
        clock.advance(seconds=40)  # past the snapshot period: this batch writes one
        await classify(first, message(clock, "Lovely driver on the Philly run"))
        clock.advance(seconds=5)
        await classify(first, message(clock, "Also stuck on 95 near Baltimore, broken down bus"))
    # A new process: the detectors restored from the snapshot plus a replay of what came after.
    async with booted(SPEC, fresh_db, clock=clock, config=fast_config()) as second:
        assert metric(second, "classifier_replayed_messages") == 1
        clock.advance(seconds=5)
        later = await classify(
            second, message(clock, "Third hour on I-95 near Baltimore, the bus broke down")
        )
        assert next(e.group_id for e in later if isinstance(e, MessageClassified)) == group


async def test_the_rules_engine_routes_by_the_configured_cue_words(fresh_db: str) -> None:
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock, settings={"engine": "rules"}) as svc:
        collab, crypto, other = await classify(
            svc,
            message(clock, "open to a sponsorship deal?"),
            message(clock, "free CRYPTO, click this link"),
            message(clock, "the bus is late again"),
        )
        assert isinstance(collab, MessageClassified) and isinstance(crypto, MessageClassified)
        assert isinstance(other, MessageClassified)
        assert (collab.queue, crypto.queue, other.queue) == ("marketing", "ignore", "cx")
        assert {e.classifier_version for e in (collab, crypto, other)} == {"rules-1"}
        assert await count(svc.engine, "engine_state") == 0  # nothing stateful to snapshot


async def test_a_message_the_store_refuses_is_dead_lettered_and_the_batch_goes_on(svc: Booted) -> None:
    clock = svc.runtime.clock
    good = [message(clock, "are pets allowed?", kind="dm"), message(clock, "is there wifi?", kind="dm")]
    poison = message(clock, "where is my bus?", brand="b" * 80)  # longer than the brand column
    counts = await svc.feed(good[0], poison, good[1])
    assert (counts.get("processed"), counts.get("deadlettered")) == (2, 1)
    (dead,) = await svc.dead_letters()
    assert str(poison.message_id) in dead["payload"]
    emitted = await svc.emitted()
    assert sorted(e.message_id for e in emitted if isinstance(e, MessageClassified)) == sorted(
        m.message_id for m in good
    )
    assert await count(svc.engine, "classifications") == 2


async def test_a_bad_classifier_section_stops_the_service_with_the_field_named(fresh_db: str) -> None:
    config = config_for_tests().model_copy(update={"classifier": {"auto_reply_min_confidense": 0.9}})
    with pytest.raises(SystemExit, match="auto_reply_min_confidense"):
        async with booted(SPEC, fresh_db, config=config):
            pass
