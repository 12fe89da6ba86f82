"""Consumer side: one handler per consumed event type, each turning its event into a
delivery owed (idempotent per source event and destination).

Nothing is sent here: the batch transaction only records what must go out, so a Slack
outage never blocks the partition and a redelivered event adds no second row. The
delivery worker sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from socialdesk_notifier import domain
from socialdesk_notifier.store import DeliveryStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.consumer import HandlerTable
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import (
    Event,
    ReplyRequested,
    SlaWarning,
    SpikeDetected,
    TicketEscalated,
    TrendDetected,
)

__all__ = ["Handlers"]


@dataclass(frozen=True)
class Handlers:
    """Usage: ``ServiceParts(handlers=Handlers(config=config, clock=clock).table(), ...)``."""

    config: SocialdeskConfig
    clock: Clock

    def table(self) -> HandlerTable:
        return {
            TicketEscalated: self.on_ticket_escalated,
            SlaWarning: self.on_sla_warning,
            SpikeDetected: self.on_spike_detected,
            TrendDetected: self.on_trend_detected,
            ReplyRequested: self.on_reply_requested,
        }

    async def on_ticket_escalated(self, event: TicketEscalated, uow: UnitOfWork) -> None:
        await self._owe(uow, event, domain.escalation(event, self.config))

    async def on_sla_warning(self, event: SlaWarning, uow: UnitOfWork) -> None:
        await self._owe(uow, event, domain.sla_warning(event, self.config))

    async def on_spike_detected(self, event: SpikeDetected, uow: UnitOfWork) -> None:
        await self._owe(uow, event, domain.spike(event, self.config))

    async def on_trend_detected(self, event: TrendDetected, uow: UnitOfWork) -> None:
        await self._owe(uow, event, domain.trend(event, self.config))

    async def on_reply_requested(self, event: ReplyRequested, uow: UnitOfWork) -> None:
        await self._owe(uow, event, domain.reply(event))

    async def _owe(self, uow: UnitOfWork, event: Event, notification: domain.Notification) -> None:
        await DeliveryStore(uow).enqueue(event, notification, now=self.clock.now())
