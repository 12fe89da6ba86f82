"""Wiring the sla-monitor."""

from __future__ import annotations

import functools
from pathlib import Path

from socialdesk_runtime.consumer import Batch
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_schemas import (
    TOPICS,
    AgentReplied,
    TicketAssigned,
    TicketQueued,
    TicketResolved,
    TrendDetected,
)
from socialdesk_sla_monitor.metrics import SlaMetrics
from socialdesk_sla_monitor.settings import SlaMonitorSettings
from socialdesk_sla_monitor.timers import (
    SlaScheduler,
    arm_batch,
    stop_batch,
    stop_on_resolve,
    tighten_hot_topic,
)


async def bootstrap(runtime: Runtime) -> ServiceParts:
    settings = runtime.settings
    assert isinstance(settings, SlaMonitorSettings)
    metrics = SlaMetrics.create(runtime.metrics.registry)
    arm = Batch(functools.partial(arm_batch, config=runtime.config, metrics=metrics))
    scheduler = SlaScheduler(
        uow_factory=runtime.uow_factory,
        config=runtime.config,
        clock=runtime.clock,
        metrics=metrics,
        max_idle_seconds=settings.max_idle_seconds,
        ready=runtime.consumer_caught_up,
    )
    # Every commit may have armed a timer due sooner than the scheduler planned for.
    runtime.uow_factory.on_commit(scheduler.notify)
    return ServiceParts(
        handlers={
            TicketAssigned: arm,
            TicketQueued: arm,
            AgentReplied: Batch(functools.partial(stop_batch, metrics=metrics)),
            TicketResolved: functools.partial(stop_on_resolve, metrics=metrics),
            TrendDetected: functools.partial(tighten_hot_topic, config=runtime.config, metrics=metrics),
        },
        topics=[TOPICS.assignments, TOPICS.activity, TOPICS.trends],
        workers=[scheduler],
    )


SPEC = ServiceSpec(
    name="sla-monitor",
    settings_cls=SlaMonitorSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
