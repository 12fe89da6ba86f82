"""The classifier's rules: what to decide and publish for a received message.

Two deciders behind one seam, :class:`Decider`, both answering with the library's
:class:`~socialdesk_classifier.nlp.Decision` (the one classification result):

- :class:`Engine` (the default): the trained classifier plus the trend and spike
  detectors. Its stateful parts (incident groups, trend windows, spike baselines) live in
  memory and are made durable by a snapshot written in the batch transaction every
  ``snapshot_seconds`` (:class:`Snapshots`), plus a replay, at start, of the decisions
  committed after it (decision record 0102: faust tables did not survive a worker restart
  on the embedded broker).
- :class:`RulesClassifier`: the configuration's marketing and ignore cue words only, for
  a deployment without the model files.

:func:`publications` turns a decided message into the events to publish. Plain data in,
plain data out: no I/O, time passed in.
"""

from __future__ import annotations

import pickle
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from socialdesk_classifier.nlp import (
    Classifier,
    Decision,
    Grouper,
    Post,
    SpikeDetector,
    SpikeSignal,
    TrendDetector,
    TrendSignal,
)
from socialdesk_classifier.nlp.types import Queue
from socialdesk_runtime.config import RoutingRules
from socialdesk_schemas import Event, MessageClassified, MessageReceived, SpikeDetected, TrendDetected

__all__ = ["PRODUCER", "Decider", "Engine", "Outcome", "RulesClassifier", "Snapshots", "publications"]

PRODUCER = "classifier"
RULES_VERSION = "rules-1"


@dataclass(frozen=True, slots=True)
class Outcome:
    """A message's decision and the stream signals it raised."""

    decision: Decision
    trend: TrendSignal | None = None
    spike: SpikeSignal | None = None


class Decider(Protocol):
    def decide(self, message: MessageReceived) -> Outcome: ...


def post_of(message: MessageReceived) -> Post:
    return Post(
        id=str(message.message_id),
        brand=message.brand,
        platform=message.platform,
        kind=message.kind,
        author_followers=message.author.followers or 0,
        text=message.text,
        # The platform's time when it gave one: grouping and windows are about when
        # customers wrote, and a backlog drained late must not look like a burst.
        created_at=message.sent_at or message.received_at,
    )


# --------------------------------------------------------------------------- the model
class Engine:
    """Classify a message and feed the detectors, at most once per message id.

    A batch that is retried (a transient error) or re-run event by event (a poison
    event) calls :meth:`decide` again for the same message: the cached outcome is
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

    def decide(self, message: MessageReceived) -> Outcome:
        key = str(message.message_id)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        post = post_of(message)
        decision = self.classifier.classify(post)
        at, sentiment, group = post.created_at, decision.sentiment, decision.group_id
        outcome = Outcome(
            decision,
            trend=self.trends.observe(message.brand, at, sentiment, group),
            spike=self.spikes.observe(message.brand, at, sentiment, group),
        )
        self._cache[key] = outcome
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return outcome

    def replay(self, message: MessageReceived) -> None:
        """Feed a message decided before a restart back into the stateful parts."""
        self.decide(message)

    # The state is our own objects, written and read only by this service's database.
    def snapshot(self) -> bytes:
        return pickle.dumps((self.classifier.grouper, self.trends, self.spikes), protocol=5)

    def restore(self, blob: bytes) -> None:
        state: Any = pickle.loads(blob)
        grouper, current = state[0], self.classifier.grouper
        # The layout this release pickles: the rules' Grouper or the IncidentLinker around it.
        version = getattr(type(current), "STATE_VERSION", Grouper.STATE_VERSION)
        if grouper is not None and getattr(grouper, "state_version", 0) != version:
            return  # a snapshot of an older grouping layout: start afresh (the replay refills it)
        if grouper is not None and current is not None:
            current.adopt(grouper)  # the snapshot's groups under this release's rules and model
        self.trends, self.spikes = state[1], state[2]


@dataclass
class Snapshots:
    """When the engine's state is due to be written again."""

    engine: Engine
    every_seconds: float = 30.0
    last: datetime | None = None

    def due(self, now: datetime) -> bytes | None:
        """The state to write at ``now``, or ``None`` while the last snapshot is recent."""
        if self.last is not None and (now - self.last).total_seconds() < self.every_seconds:
            return None
        return self.engine.snapshot()

    def written(self, now: datetime) -> None:
        self.last = now


# --------------------------------------------------------------------------- cue words
def _cue_pattern(cues: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({c.strip().lower() for c in cues if c.strip()}, key=len, reverse=True)
    if not words:
        return None
    # A prefix match catches inflections ("collabs", "sponsoring") without a stemmer.
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")", re.IGNORECASE)


class RulesClassifier:
    """Queue by configured cue words: marketing cues send a message to the marketing
    queue, ignore cues dismiss it, everything else is CX at the default priority."""

    def __init__(
        self,
        *,
        marketing_cues: Iterable[str],
        ignore_cues: Iterable[str],
        default_priority: str,
        default_language: str = "en",
    ) -> None:
        self._marketing = _cue_pattern(marketing_cues)
        self._ignore = _cue_pattern(ignore_cues)
        self._default_priority = default_priority
        self._default_language = default_language

    @classmethod
    def from_routing(cls, routing: RoutingRules) -> RulesClassifier:
        """From the configuration's routing section: every language's cues together (a
        post may mix languages)."""
        return cls(
            marketing_cues=[c for cues in routing.marketing_cues.values() for c in cues],
            ignore_cues=[c for cues in routing.ignore_cues.values() for c in cues],
            default_priority=routing.default_priority,
        )

    def _decision(
        self, queue: Queue, category: str, priority: str, language: str, confidence: float, reason: str
    ) -> Outcome:
        return Outcome(
            Decision(
                queue=queue,
                category=category,
                priority=priority,
                sentiment="neutral",
                language=language,
                auto_reply=None,
                group_id=None,
                version=RULES_VERSION,
                confidence={"queue": confidence},
                reasons=[reason],
            )
        )

    def decide(self, message: MessageReceived) -> Outcome:
        text = message.text
        lang = self._default_language
        if self._marketing is not None and (m := self._marketing.search(text)):
            return self._decision(
                "marketing", "promo", "low", lang, 0.6, f"marketing cue {m.group(1).lower()!r}"
            )
        if self._ignore is not None and (m := self._ignore.search(text)):
            return self._decision("ignore", "spam", "low", lang, 0.6, f"ignore cue {m.group(1).lower()!r}")
        if not text.strip():
            return self._decision(
                "cx", "unknown", self._default_priority, "und", 0.3, "empty text: a person must look"
            )
        return self._decision(
            "cx",
            "query",
            self._default_priority,
            lang,
            0.5,
            "no marketing or ignore cue: customer service by default",
        )


# --------------------------------------------------------------------------- what to publish
def publications(message: MessageReceived, outcome: Outcome, now: datetime) -> list[Event]:
    """The events a decided message publishes: its classification, then any signal."""
    out: list[Event] = [
        message.caused(
            MessageClassified,
            producer=PRODUCER,
            occurred_at=now,
            message_id=message.message_id,
            conversation_id=message.conversation_id,
            customer_id=message.customer_id,
            brand=message.brand,
            platform=message.platform,
            kind=message.kind,
            received_at=message.received_at,
            opens_ticket=message.opens_ticket,
            platform_message_id=message.platform_message_id,
            author_platform_user_id=message.author.platform_user_id,
            author_followers=message.author.followers,
            **outcome.decision.as_event_fields(),
        )
    ]
    if outcome.trend is not None:
        out.append(
            message.caused(
                TrendDetected,
                producer=PRODUCER,
                occurred_at=now,
                sample_text=message.text[:280],
                **outcome.trend.as_event_fields(),
                **outcome.decision.group_event_fields(),
            )
        )
    if outcome.spike is not None:
        out.append(
            message.caused(
                SpikeDetected, producer=PRODUCER, occurred_at=now, **outcome.spike.as_event_fields()
            )
        )
    return out
