"""The classifier's rules without a database: deciders, what is published, snapshots."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_classifier.domain import (
    PRODUCER,
    Engine,
    Outcome,
    RulesClassifier,
    Snapshots,
    publications,
)
from socialdesk_classifier.nlp import ClassifierSettings, SpikeSignal, TrendSignal, load_default_classifier
from socialdesk_runtime.config import RoutingRules
from socialdesk_schemas import MessageClassified, MessageReceived, SpikeDetected, TrendDetected

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def message(text: str, *, at: datetime = T0, brand: str = "ourbus", kind: str = "dm") -> MessageReceived:
    return MessageReceived(
        producer="ingest",
        occurred_at=at,
        ticket_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        brand=brand,
        platform="instagram",
        kind=kind,
        platform_message_id="pm-1",
        author={"platform_user_id": "u-1", "followers": 120},
        text=text,
        received_at=at + timedelta(seconds=3),
        sent_at=at,
    )


@pytest.fixture(scope="module")
def rules() -> RulesClassifier:
    return RulesClassifier.from_routing(
        RoutingRules(
            marketing_cues={"en": ["collab"], "es": ["patrocinio"]},
            ignore_cues={"en": ["crypto"]},
            default_priority="high",
        )
    )


@pytest.fixture
def engine() -> Engine:
    fast = ClassifierSettings.model_validate({"spikes": {"warmup_buckets": 5, "cooldown_seconds": 60}})
    return Engine(load_default_classifier(fast))


@pytest.mark.parametrize(
    ("text", "queue", "category", "priority"),
    [
        ("open to a paid COLLABS deal?", "marketing", "promo", "low"),
        ("buscamos patrocinio para un festival", "marketing", "promo", "low"),  # any language's cues
        ("free crypto here", "ignore", "spam", "low"),
        ("my bus is late", "cx", "query", "high"),
        ("   ", "cx", "unknown", "high"),
    ],
)
def test_rules_route_by_configured_cue_words(
    rules: RulesClassifier, text: str, queue: str, category: str, priority: str
) -> None:
    d = rules.decide(message(text)).decision
    assert (d.queue, d.category, d.priority, d.version) == (queue, category, priority, "rules-1")
    assert d.reasons


def test_rules_match_whole_words_from_their_start(rules: RulesClassifier) -> None:
    assert rules.decide(message("a recollaboration")).decision.queue == "cx"


def test_a_classified_message_carries_the_message_and_the_whole_decision(engine: Engine) -> None:
    received = message("Is there wifi on the bus to Boston?")
    outcome = engine.decide(received)
    now = T0 + timedelta(seconds=9)
    (classified,) = publications(received, outcome, now)
    assert isinstance(classified, MessageClassified)
    d = outcome.decision
    assert (classified.queue, classified.category, classified.auto_reply) == ("cx", "query", "wifi_power")
    assert (classified.priority, classified.sentiment, classified.language) == (
        d.priority,
        d.sentiment,
        d.language,
    )
    assert classified.confidence == d.confidence and classified.reasons == d.reasons
    assert classified.classifier_version == "model-1"
    assert classified.group_id == d.group_id
    assert (classified.message_id, classified.ticket_id, classified.brand) == (
        received.message_id,
        received.ticket_id,
        "ourbus",
    )
    assert (classified.author_platform_user_id, classified.author_followers) == ("u-1", 120)
    assert (classified.causation_id, classified.correlation_id) == (
        received.event_id,
        received.correlation_id,
    )
    assert (classified.producer, classified.occurred_at) == (PRODUCER, now)


def test_signals_are_published_after_the_classification(rules: RulesClassifier) -> None:
    received = message("stuck on I-95")
    trend = TrendSignal("ourbus", "g-1", 5, 1800, 1, T0)
    spike = SpikeSignal("ourbus", "major", 12, 2.0, 1.0, 0.2, 300, 8.1, T0)
    outcome = Outcome(rules.decide(received).decision, trend=trend, spike=spike)
    classified, trended, spiked = publications(received, outcome, T0)
    assert isinstance(classified, MessageClassified)
    assert isinstance(trended, TrendDetected)
    assert (trended.group_id, trended.volume, trended.sample_text) == ("g-1", 5, "stuck on I-95")
    assert isinstance(spiked, SpikeDetected)
    assert (spiked.severity, spiked.negative_share, spiked.score) == ("major", 1.0, 8.1)


def test_the_engine_decides_a_message_once_even_when_a_batch_is_re_run(engine: Engine) -> None:
    received = message("Bus broke down on I-95 near Baltimore, stuck")
    first = engine.decide(received)
    assert engine.decide(received) is first
    assert len(engine.trends) == 1  # the detectors saw it once


def test_grouping_uses_when_the_customer_wrote(engine: Engine) -> None:
    a = engine.decide(message("Bus broke down on I-95 near Baltimore, stuck", at=T0))
    b = engine.decide(message("Broken down on 95 near Baltimore", at=T0 + timedelta(minutes=5)))
    assert a.decision.group_id is not None and a.decision.group_id == b.decision.group_id


def test_a_restored_engine_keeps_its_incident_groups(engine: Engine) -> None:
    group = engine.decide(message("Bus broke down on I-95 near Baltimore, stuck")).decision.group_id
    fresh = Engine(load_default_classifier())
    fresh.restore(engine.snapshot())
    later = fresh.decide(
        message("Still stuck near Baltimore on I-95, bus broke down", at=T0 + timedelta(minutes=2))
    )
    assert later.decision.group_id == group


def test_snapshots_are_due_every_period_of_the_clock(engine: Engine) -> None:
    snapshots = Snapshots(engine, every_seconds=30)
    assert snapshots.due(T0) is not None  # never written: due at once
    snapshots.written(T0)
    assert snapshots.due(T0 + timedelta(seconds=29)) is None
    assert snapshots.due(T0 + timedelta(seconds=30)) is not None
