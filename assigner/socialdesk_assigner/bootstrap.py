"""Wiring the assigner: its handler table, the desk API, its metrics."""

from __future__ import annotations

import functools
from pathlib import Path

from socialdesk_assigner.api import agent_tokens, desk_router
from socialdesk_assigner.handlers import on_message_classified
from socialdesk_assigner.metrics import AssignerMetrics
from socialdesk_assigner.settings import AssignerSettings
from socialdesk_runtime.consumer import Batch
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_schemas import (
    AgentReplied,
    Event,
    MessageClassified,
    ReplyRequested,
    TicketAssigned,
    TicketDismissed,
    TicketQueued,
    TicketResolved,
    TicketRoutedToMarketing,
)

EMITS: tuple[type[Event], ...] = (
    TicketAssigned,
    TicketQueued,
    TicketDismissed,
    TicketRoutedToMarketing,
    AgentReplied,
    TicketResolved,
    ReplyRequested,
)


async def bootstrap(runtime: Runtime) -> ServiceParts:
    metrics = AssignerMetrics.create(runtime.metrics.registry)
    on_classified = functools.partial(
        on_message_classified, config=runtime.config, clock=runtime.clock, metrics=metrics
    )
    router = desk_router(
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        agent_for_token=agent_tokens(runtime.config),
        metrics=metrics,
    )
    return ServiceParts(
        handlers={MessageClassified: Batch(on_classified)},
        emits=EMITS,
        routers=[router],
    )


SPEC = ServiceSpec(
    name="assigner",
    settings_cls=AssignerSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
