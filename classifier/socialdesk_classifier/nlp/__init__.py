"""socialdesk classifier library: queue, category, priority, sentiment, language,
auto-reply, incident grouping, trends and spikes for social-media posts. Pure Python, no IO
beyond reading its data files at load time.

Usage::

    from socialdesk_classifier.nlp import Post, load_default_classifier

    clf = load_default_classifier()
    decision = clf.classify(Post(id="m1", brand="ourbus", platform="x", kind="mention",
                                 author_followers=1200, text="is there wifi on the bus?",
                                 created_at=now))
    decision.queue, decision.category, decision.auto_reply   # ("cx", "query", "wifi_power")
"""

from socialdesk_classifier.nlp.classifier import Classifier, load_default_classifier
from socialdesk_classifier.nlp.grouping import GroupAssignment, Grouper, GroupSummary, SignatureExtractor
from socialdesk_classifier.nlp.settings import (
    BrandSettings,
    ClassifierSettings,
    GroupingSettings,
    SpikeSettings,
    TrendSettings,
)
from socialdesk_classifier.nlp.trends import SpikeDetector, SpikeSignal, TrendDetector, TrendSignal
from socialdesk_classifier.nlp.types import Decision, Post

__all__ = [
    "BrandSettings",
    "Classifier",
    "ClassifierSettings",
    "Decision",
    "GroupAssignment",
    "GroupSummary",
    "Grouper",
    "GroupingSettings",
    "Post",
    "SignatureExtractor",
    "SpikeDetector",
    "SpikeSettings",
    "SpikeSignal",
    "TrendDetector",
    "TrendSettings",
    "TrendSignal",
    "load_default_classifier",
]
