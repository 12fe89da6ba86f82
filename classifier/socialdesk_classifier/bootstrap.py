"""Wiring the classifier service."""

from __future__ import annotations

import functools
from pathlib import Path

from socialdesk_classifier.decide import RulesClassifier
from socialdesk_classifier.handlers import classify_message
from socialdesk_classifier.settings import ClassifierSettings
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_schemas import TOPICS, MessageReceived


async def bootstrap(runtime: Runtime) -> ServiceParts:
    routing = runtime.config.routing
    decider = RulesClassifier(
        marketing_cues=routing.all_marketing_cues(),
        ignore_cues=routing.all_ignore_cues(),
        default_priority=routing.default_priority,
    )
    return ServiceParts(
        handlers={MessageReceived: functools.partial(classify_message, decider=decider, clock=runtime.clock)},
        topics=[TOPICS.messages],
    )


SPEC = ServiceSpec(
    name="classifier",
    settings_cls=ClassifierSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
