"""Wiring the classifier service: the trained model by default, the rules pass on request."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select

from socialdesk_classifier.decide import Decider, RulesClassifier
from socialdesk_classifier.engine import Engine
from socialdesk_classifier.handlers import Snapshots, classify_messages
from socialdesk_classifier.nlp import ClassifierSettings
from socialdesk_classifier.settings import ClassifierServiceSettings
from socialdesk_classifier.tables import classifications, engine_state
from socialdesk_runtime.consumer import Batch
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_schemas import TOPICS, MessageReceived

log = logging.getLogger(__name__)


async def restore_engine(runtime: Runtime, engine: Engine, *, replay_limit: int) -> int:
    """Load the last snapshot and replay what was decided after it; return how many."""
    async with runtime.uow_factory() as uow:
        row = (await uow.conn.execute(select(engine_state.c.blob, engine_state.c.saved_at))).first()
        query = select(classifications.c.post).where(classifications.c.post.is_not(None))
        if row is not None:
            engine.restore(row.blob)
            query = query.where(classifications.c.classified_at > row.saved_at)
        rows = (
            await uow.conn.execute(query.order_by(classifications.c.classified_at.desc()).limit(replay_limit))
        ).all()
    for (post,) in reversed(rows):
        engine.replay(MessageReceived.model_validate(post))
    return len(rows)


async def bootstrap(runtime: Runtime) -> ServiceParts:
    settings = runtime.settings
    assert isinstance(settings, ClassifierServiceSettings)
    routing = runtime.config.routing
    decider: Decider | Engine
    snapshots: Snapshots | None = None
    if settings.engine == "rules":
        decider = RulesClassifier(
            marketing_cues=routing.all_marketing_cues(),
            ignore_cues=routing.all_ignore_cues(),
            default_priority=routing.default_priority,
        )
    else:
        try:
            model_settings = ClassifierSettings.model_validate(runtime.config.classifier)
        except ValidationError as exc:
            raise SystemExit(
                f"classifier: the configuration's classifier section is invalid:\n{exc}"
            ) from None
        try:
            decider = Engine.load(model_settings)
        except ValueError as exc:  # an extra cue naming no cue, or a bad pattern
            raise SystemExit(
                f"classifier: the configuration's classifier section is invalid: {exc}"
            ) from None
        replayed = await restore_engine(runtime, decider, replay_limit=settings.replay_limit)
        log.info("classifier: model loaded; %d recent decisions replayed into the detectors", replayed)
        snapshots = Snapshots(every_seconds=settings.snapshot_seconds)
    handler = functools.partial(classify_messages, decider=decider, clock=runtime.clock, snapshots=snapshots)
    return ServiceParts(handlers={MessageReceived: Batch(handler)}, topics=[TOPICS.messages])


SPEC = ServiceSpec(
    name="classifier",
    settings_cls=ClassifierServiceSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
