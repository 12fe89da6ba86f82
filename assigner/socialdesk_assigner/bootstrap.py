"""Wiring the assigner."""

from __future__ import annotations

import functools
from pathlib import Path

from socialdesk_assigner.desk import desk_router, token_index
from socialdesk_assigner.handlers import route_batch
from socialdesk_assigner.settings import AssignerSettings
from socialdesk_runtime.consumer import Batch
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_schemas import TOPICS, MessageClassified


async def bootstrap(runtime: Runtime) -> ServiceParts:
    config = runtime.config
    router = desk_router(
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        config=config,
        agent_for_token=token_index(config),
    )
    return ServiceParts(
        handlers={
            MessageClassified: Batch(functools.partial(route_batch, config=config, clock=runtime.clock))
        },
        topics=[TOPICS.classified],
        routers=[router],
    )


SPEC = ServiceSpec(
    name="assigner",
    settings_cls=AssignerSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
