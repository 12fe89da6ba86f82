"""Wiring the assigner: its handler table, the desk API and pages, its metrics and worker."""

from __future__ import annotations

import functools
from pathlib import Path

from socialdesk_assigner.api import Desk, agent_tokens, desk_router
from socialdesk_assigner.api.cookie import DESK_API
from socialdesk_assigner.handlers import ReadModelHandlers, on_message_classified
from socialdesk_assigner.handlers.freshdesk import FreshdeskHandlers
from socialdesk_assigner.handlers.ownership import OwnershipHandlers
from socialdesk_assigner.metrics import AssignerMetrics
from socialdesk_assigner.presence import DeskWorker, Dispatcher, Roster
from socialdesk_assigner.sessions import DeskSessions
from socialdesk_assigner.settings import AssignerSettings
from socialdesk_assigner.web import desk_pages
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
from socialdesk_schemas.desk import (
    FollowUpPromised,
    InternalNoteAdded,
    OwnershipRefused,
    TicketPending,
    TicketPriorityRaised,
    TicketReopened,
)

EMITS: tuple[type[Event], ...] = (
    TicketAssigned,
    TicketQueued,
    TicketDismissed,
    TicketRoutedToMarketing,
    AgentReplied,
    TicketResolved,
    ReplyRequested,
    TicketPending,
    TicketReopened,
    FollowUpPromised,
    InternalNoteAdded,
    OwnershipRefused,
    TicketPriorityRaised,
)


async def bootstrap(runtime: Runtime) -> ServiceParts:
    metrics = AssignerMetrics.create(runtime.metrics.registry)
    settings = runtime.settings
    assert isinstance(settings, AssignerSettings)
    roster = Roster(runtime.config)
    dispatcher = Dispatcher(roster)
    on_classified = functools.partial(
        on_message_classified, config=runtime.config, clock=runtime.clock, metrics=metrics, roster=roster
    )
    desk = Desk(
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        config=runtime.config,
        roster=roster,
        dispatcher=dispatcher,
        agent_for_token=agent_tokens(runtime.config),
        metrics=metrics,
        sessions=DeskSessions(
            uow_factory=runtime.uow_factory, clock=runtime.clock, roster=roster, metrics=metrics
        ),
    )
    read_model = ReadModelHandlers(config=runtime.config, clock=runtime.clock, roster=roster)
    worker = DeskWorker(dispatcher, runtime.uow_factory, runtime.clock, interval=settings.desk_tick_seconds)
    return ServiceParts(
        handlers={
            MessageClassified: Batch(on_classified),
            **read_model.table(),
            **OwnershipHandlers(clock=runtime.clock, roster=roster).table(),
            **FreshdeskHandlers(config=runtime.config, clock=runtime.clock).table(),
        },
        emits=EMITS,
        # the pages call the API inside their cookie's path (before the pages' catch-all)
        routers=[desk_router(desk), desk_router(desk, prefix=DESK_API, documented=False), desk_pages(desk)],
        workers=[worker],
        max_body_bytes=settings.max_body_bytes,
    )


SPEC = ServiceSpec(
    name="assigner",
    settings_cls=AssignerSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
