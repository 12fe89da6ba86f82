"""The classifier service's decider: the library's classifier plus the stream detectors.

Stateful parts (incident groups, trend windows, spike baselines) live in memory and are
made durable by a snapshot written in the batch transaction every ``snapshot_seconds``,
plus a replay, at start, of the decisions committed after that snapshot (see decision
record 0102: faust tables did not survive a worker restart on the embedded broker).
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialdesk_classifier.decide import Verdict
from socialdesk_classifier.nlp import (
    Classifier,
    ClassifierSettings,
    Post,
    SpikeDetector,
    SpikeSignal,
    TrendDetector,
    TrendSignal,
    load_default_classifier,
)
from socialdesk_schemas import MessageReceived

MODEL_VERSION = "model-1"


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    trend: TrendSignal | None
    spike: SpikeSignal | None


def post_of(event: MessageReceived) -> Post:
    return Post(
        id=str(event.message_id),
        brand=event.brand,
        platform=event.platform,
        kind=event.kind,
        author_followers=event.author.followers or 0,
        text=event.text,
        # The platform's time when it gave one: grouping and windows are about when
        # customers wrote, and a backlog drained late must not look like a burst.
        created_at=event.sent_at or event.received_at,
    )


class Engine:
    """Classify a message and feed the detectors, at most once per message id.

    A batch that is retried (a transient error) or re-run event by event (a poison
    event) calls :meth:`process` again for the same message: the cached outcome is
    returned and the detectors are not fed twice.
    """

    def __init__(
        self,
        classifier: Classifier,
        *,
        trends: TrendDetector | None = None,
        spikes: SpikeDetector | None = None,
        cache_size: int = 20_000,
    ) -> None:
        self.classifier = classifier
        settings = classifier.settings
        self.trends = trends or TrendDetector(settings.trends)
        self.spikes = spikes or SpikeDetector(settings.spikes)
        self._cache: OrderedDict[str, Outcome] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    def load(cls, settings: ClassifierSettings | None = None) -> Engine:
        return cls(load_default_classifier(settings))

    def process(self, event: MessageReceived) -> Outcome:
        key = str(event.message_id)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        post = post_of(event)
        decision = self.classifier.classify(post)
        trend = self.trends.observe(event.brand, post.created_at, decision.sentiment, decision.group_id)
        spike = self.spikes.observe(event.brand, post.created_at, decision.sentiment, decision.group_id)
        outcome = Outcome(
            verdict=Verdict(
                queue=decision.queue,
                category=decision.category,
                priority=decision.priority,
                sentiment=decision.sentiment,
                language=decision.language,
                auto_reply=decision.auto_reply,
                group_id=decision.group_id,
                confidence=dict(decision.confidence),
                reasons=list(decision.reasons),
                version=MODEL_VERSION,
            ),
            trend=trend,
            spike=spike,
        )
        self._cache[key] = outcome
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return outcome

    def replay(self, event: MessageReceived) -> None:
        """Feed a message decided before a restart back into the stateful parts."""
        self.process(event)

    # The state is our own objects, written and read only by this service's database.
    def snapshot(self) -> bytes:
        return pickle.dumps((self.classifier.grouper, self.trends, self.spikes), protocol=5)

    def restore(self, blob: bytes) -> None:
        state: Any = pickle.loads(blob)
        self.classifier.grouper, self.trends, self.spikes = state


def snapshot_due(last: datetime | None, now: datetime, every_seconds: float) -> bool:
    return last is None or (now - last).total_seconds() >= every_seconds
