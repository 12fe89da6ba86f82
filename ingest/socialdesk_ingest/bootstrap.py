"""Wiring ingest: one function from runtime dependencies to the service's parts."""

from __future__ import annotations

import functools
from pathlib import Path

from socialdesk_ingest.api import intake_router
from socialdesk_ingest.batching import IntakeBatcher
from socialdesk_ingest.handlers import accept_offers
from socialdesk_ingest.metrics import IngestMetrics
from socialdesk_ingest.settings import IngestSettings
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_schemas import MessageReceived


async def bootstrap(runtime: Runtime) -> ServiceParts:
    settings = runtime.settings
    assert isinstance(settings, IngestSettings)
    config = runtime.config
    if not config.intake_api_keys():
        raise SystemExit(
            f"ingest: no API keys configured: set {config.intake.api_keys_env} (comma-separated)"
        )
    batcher = IntakeBatcher(
        functools.partial(
            accept_offers,
            uow_factory=runtime.uow_factory,
            clock=runtime.clock,
            idle_seconds=settings.conversation_idle_seconds,
        )
    )
    router = intake_router(
        batcher=batcher,
        api_keys=config.intake_api_keys,
        known_brands=frozenset(b.id for b in config.brands),
        metrics=IngestMetrics.create(runtime.metrics.registry),
    )
    return ServiceParts(
        emits=[MessageReceived], routers=[router], max_body_bytes=config.intake.max_body_bytes
    )


SPEC = ServiceSpec(
    name="ingest",
    settings_cls=IngestSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
