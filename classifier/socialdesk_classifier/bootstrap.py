"""Wiring the classifier service: the trained model by default, the cue-word rules on request."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from socialdesk_classifier.domain import Decider, Engine, RulesClassifier, Snapshots
from socialdesk_classifier.handlers import ClassifierHandlers, restore_engine
from socialdesk_classifier.metrics import ClassifierMetrics
from socialdesk_classifier.nlp import ClassifierSettings, load_default_classifier
from socialdesk_classifier.settings import ClassifierServiceSettings
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_schemas import MessageClassified, SpikeDetected, TrendDetected

log = logging.getLogger(__name__)


def _load_engine(section: dict[str, Any]) -> Engine:
    """The model from the repository's files, tuned by the configuration's classifier section."""
    try:
        settings = ClassifierSettings.model_validate(section)
    except ValidationError as exc:
        raise SystemExit(f"classifier: the configuration's classifier section is invalid:\n{exc}") from None
    try:
        return Engine(load_default_classifier(settings))
    except ValueError as exc:  # an extra cue naming no cue, or a bad pattern
        raise SystemExit(f"classifier: the configuration's classifier section is invalid: {exc}") from None


async def bootstrap(runtime: Runtime) -> ServiceParts:
    settings = runtime.settings
    assert isinstance(settings, ClassifierServiceSettings)
    metrics = ClassifierMetrics.create(runtime.metrics.registry)
    decider: Decider
    snapshots: Snapshots | None = None
    if settings.engine == "rules":
        decider = RulesClassifier.from_routing(runtime.config.routing)
    else:
        engine = _load_engine(runtime.config.classifier)
        replayed = await restore_engine(runtime.uow_factory, engine, replay_limit=settings.replay_limit)
        metrics.replayed_messages.set(replayed)
        log.info("classifier: model loaded; %d recent decisions replayed into the detectors", replayed)
        decider, snapshots = engine, Snapshots(engine, every_seconds=settings.snapshot_seconds)
    handlers = ClassifierHandlers(decider, runtime.clock, metrics, snapshots)
    return ServiceParts(handlers=handlers.table(), emits=[MessageClassified, TrendDetected, SpikeDetected])


SPEC = ServiceSpec(
    name="classifier",
    settings_cls=ClassifierServiceSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
