"""Replies and resolutions made in Freshdesk (issue 13), taken as the desk's own.

The notifier's connector turns an agent's reply or resolve in Freshdesk into
``HelpdeskReplyReceived`` / ``HelpdeskTicketResolved``. Here each becomes exactly what the
same action on the desk makes, through the desk's own domain and store: the reply is
recorded and requested (``ReplyRequested``: the notifier sends it on the customer's
platform, never by Freshdesk's e-mail; ``AgentReplied``: the SLA clock stops), a resolve
resolves. The agent is the one mapped from Freshdesk's roster, else the ticket's owner;
an action the rules refuse (a ticket already resolved, another brand) is logged and
left, not dead-lettered: Freshdesk has it either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from socialdesk_assigner.domain import DomainError, Step, Ticket, reply, resolve
from socialdesk_assigner.domain.views import history_rows
from socialdesk_assigner.store import DeskStore, TicketStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import Agent, SocialdeskConfig
from socialdesk_runtime.consumer import HandlerTable
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import ReplyRequested
from socialdesk_schemas.outbound import HelpdeskReplyReceived, HelpdeskTicketResolved

__all__ = ["FreshdeskHandlers"]

log = logging.getLogger(__name__)

#: Freshdesk has no root cause of ours: the desk's "other" category unless the rule sends one.
DEFAULT_ROOT_CAUSE = "other: resolved in Freshdesk"


@dataclass(frozen=True)
class FreshdeskHandlers:
    """Usage: ``handlers={..., **FreshdeskHandlers(config=cfg, clock=clock).table()}``."""

    config: SocialdeskConfig
    clock: Clock

    def table(self) -> HandlerTable:
        return {HelpdeskReplyReceived: self.on_reply, HelpdeskTicketResolved: self.on_resolved}

    def _agent(self, agent_id: str | None, ticket: Ticket) -> Agent | None:
        for candidate in (agent_id, ticket.agent_id):
            if candidate is None:
                continue
            try:
                return self.config.agent(candidate)
            except KeyError:
                continue
        return None

    async def _apply(self, uow: UnitOfWork, step: Step) -> None:
        await TicketStore(uow).save([step.ticket])
        for event in step.events:
            uow.emit(event)
        await DeskStore(uow).add_history(history_rows(step.events))

    async def on_reply(self, event: HelpdeskReplyReceived, uow: UnitOfWork) -> None:
        store = TicketStore(uow)
        ticket = await store.ticket(event.ticket_id, lock=True)
        agent = None if ticket is None else self._agent(event.agent_id, ticket)
        if ticket is None or agent is None:
            log.warning(
                "Freshdesk reply on ticket %s: no such ticket or no agent to send it as", event.ticket_id
            )
            return
        now = self.clock.now()
        try:
            step = reply(ticket, agent, reply_id=event.reply_id, text=event.text, now=now)
        except DomainError as exc:
            log.warning("Freshdesk reply on ticket %s not sent: %s", event.ticket_id, exc)
            return
        request = next((e.event_id for e in step.events if isinstance(e, ReplyRequested)), None)
        if not await store.add_reply(
            reply_id=event.reply_id,
            ticket_id=ticket.ticket_id,
            agent_id=agent.id,
            text=event.text,
            at=now,
            request_event_id=request,
        ):
            return  # this reply was taken before
        await self._apply(uow, step)

    async def on_resolved(self, event: HelpdeskTicketResolved, uow: UnitOfWork) -> None:
        ticket = await TicketStore(uow).ticket(event.ticket_id, lock=True)
        agent = None if ticket is None else self._agent(event.agent_id, ticket)
        if ticket is None or agent is None:
            log.warning("Freshdesk resolve of ticket %s: no such ticket or no agent", event.ticket_id)
            return
        try:
            step = resolve(
                ticket, agent, root_cause=event.root_cause or DEFAULT_ROOT_CAUSE, now=self.clock.now()
            )
        except DomainError as exc:  # already resolved here: nothing to do
            log.info("Freshdesk resolve of ticket %s: %s", event.ticket_id, exc)
            return
        await self._apply(uow, step)
