"""Wiring the sla-monitor: handlers, the scheduler, and the commit that wakes it."""

from __future__ import annotations

import functools
from pathlib import Path

from socialdesk_runtime.consumer import Batch
from socialdesk_runtime.metrics import metric_prefix
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_schemas import (
    AgentReplied,
    Event,
    MessageClassified,
    MessageReceived,
    SlaBreached,
    SlaWarning,
    TicketAssigned,
    TicketEscalated,
    TicketQueued,
    TicketResolved,
    TrendDetected,
)
from socialdesk_schemas.desk import FollowUpPromised, TicketPending, TicketPriorityRaised, TicketReopened
from socialdesk_schemas.outbound import EscalationAcknowledged
from socialdesk_schemas.sla import FollowUpDue, SlaClockArmed, SlaClockStopped
from socialdesk_sla_monitor import handlers
from socialdesk_sla_monitor.metrics import SlaMetrics
from socialdesk_sla_monitor.scheduler import SlaScheduler
from socialdesk_sla_monitor.settings import SlaMonitorSettings

#: What the scheduler and the handlers publish (sla.events, whose single writer is sla-monitor).
EMITS: tuple[type[Event], ...] = (
    SlaWarning,
    SlaBreached,
    TicketEscalated,
    SlaClockArmed,
    SlaClockStopped,
    FollowUpDue,
)


def _lagging(runtime: Runtime, threshold: int) -> bool:
    """Whether replies may be waiting unread: the consumer has not caught up, or is more
    than ``threshold`` records behind (its lag gauge, set after every batch)."""
    if not runtime.consumer_caught_up.is_set():
        return True
    lag = runtime.metrics.registry.get_sample_value(f"{metric_prefix(runtime.service)}_consumer_lag_events")
    return lag is not None and lag > threshold


async def bootstrap(runtime: Runtime) -> ServiceParts:
    settings = runtime.settings
    assert isinstance(settings, SlaMonitorSettings)
    config = runtime.config
    metrics = SlaMetrics.create(runtime.metrics.registry)
    scheduler = SlaScheduler(
        uow_factory=runtime.uow_factory,
        config=runtime.config,
        clock=runtime.clock,
        metrics=metrics,
        max_idle_seconds=settings.max_idle_seconds,
        ready=runtime.consumer_caught_up,
        grace_seconds=settings.reply_grace_seconds,
        lagging=functools.partial(_lagging, runtime, settings.lag_hold_events),
        lag_hold_max_seconds=settings.lag_hold_max_seconds,
    )
    # Handlers tell the scheduler what they armed; the commit wakes it only if one of
    # those timers is due before its planned wake-up (or it holds breaches for us).
    runtime.uow_factory.on_commit(scheduler.committed)
    wake = scheduler.armed
    return ServiceParts(
        handlers={
            TicketAssigned: Batch(functools.partial(handlers.on_ticket_assigned, config=config, wake=wake)),
            TicketQueued: Batch(functools.partial(handlers.on_ticket_queued, config=config, wake=wake)),
            TicketReopened: functools.partial(handlers.on_ticket_reopened, config=config, wake=wake),
            TicketPending: functools.partial(handlers.on_ticket_pending, config=config),
            TicketPriorityRaised: Batch(
                functools.partial(handlers.on_ticket_priority_raised, config=config, wake=wake)
            ),
            FollowUpPromised: functools.partial(handlers.on_follow_up_promised, config=config, wake=wake),
            MessageClassified: Batch(
                functools.partial(handlers.on_message_classified, config=config, wake=wake)
            ),
            MessageReceived: Batch(functools.partial(handlers.on_message_received, config=config, wake=wake)),
            AgentReplied: Batch(functools.partial(handlers.on_agent_replied, metrics=metrics)),
            TicketResolved: functools.partial(handlers.on_ticket_resolved, metrics=metrics),
            EscalationAcknowledged: functools.partial(handlers.on_escalation_acknowledged, metrics=metrics),
            TrendDetected: functools.partial(
                handlers.on_trend_detected, metrics=metrics, config=config, wake=wake
            ),
        },
        emits=EMITS,
        workers=[scheduler],
    )


SPEC = ServiceSpec(
    name="sla-monitor",
    settings_cls=SlaMonitorSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
