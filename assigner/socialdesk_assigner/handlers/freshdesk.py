"""Replies, resolutions, private notes and reopenings made in Freshdesk (issue 13), taken
as the desk's own.

The notifier's connector turns an agent's reply, resolve, private note or reopen in
Freshdesk into ``HelpdeskReplyReceived`` / ``HelpdeskTicketResolved`` /
``HelpdeskNoteReceived`` / ``HelpdeskTicketReopened``. Here each becomes exactly what the
same action on the desk makes, through the desk's own domain and store: the reply is
recorded and requested (``ReplyRequested``: the notifier sends it on the customer's
platform, never by Freshdesk's e-mail; ``AgentReplied``: the SLA clock stops), a resolve
resolves, a note is an internal note, a reopen reopens (the clocks re-arm). The agent is the one mapped from Freshdesk's roster, else the ticket's owner;
an action the rules refuse (a ticket already resolved, another brand) is logged and
left, not dead-lettered: Freshdesk has it either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from socialdesk_assigner.domain import DomainError, Step, Ticket, reply, resolve
from socialdesk_assigner.domain.desk import add_note, reopen_by_agent
from socialdesk_assigner.domain.views import history_rows
from socialdesk_assigner.store import DeskStore, TicketStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import Agent, SocialdeskConfig
from socialdesk_runtime.consumer import HandlerTable
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import ReplyRequested
from socialdesk_schemas.outbound import (
    HelpdeskNoteReceived,
    HelpdeskReplyReceived,
    HelpdeskTicketReopened,
    HelpdeskTicketResolved,
)

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
        return {
            HelpdeskReplyReceived: self.on_reply,
            HelpdeskTicketResolved: self.on_resolved,
            HelpdeskNoteReceived: self.on_note,
            HelpdeskTicketReopened: self.on_reopened,
        }

    def _agents(self, agent_id: str | None, ticket: Ticket) -> list[Agent]:
        """Who to act as: the mapped Freshdesk agent, else (or if the rules refuse them)
        the ticket's owner: the team answered in Freshdesk, the desk records it."""
        agents: list[Agent] = []
        for candidate in (agent_id, ticket.agent_id):
            if candidate is None or any(a.id == candidate for a in agents):
                continue
            try:
                agents.append(self.config.agent(candidate))
            except KeyError:
                continue
        return agents

    def _decide(
        self, ticket: Ticket, agents: list[Agent], decide: Callable[[Agent], Step]
    ) -> tuple[Agent, Step] | None:
        refused = "no agent to act as"
        for agent in agents:
            try:
                return agent, decide(agent)
            except DomainError as exc:
                refused = str(exc)
        log.warning("Freshdesk action on ticket %s not taken: %s", ticket.ticket_id, refused)
        return None

    async def _apply(self, uow: UnitOfWork, step: Step) -> None:
        await TicketStore(uow).save([step.ticket])
        for event in step.events:
            uow.emit(event)
        await DeskStore(uow).add_history(history_rows(step.events))

    async def on_reply(self, event: HelpdeskReplyReceived, uow: UnitOfWork) -> None:
        store = TicketStore(uow)
        ticket = await store.ticket(event.ticket_id, lock=True)
        if ticket is None:
            log.warning("Freshdesk reply on unknown ticket %s", event.ticket_id)
            return
        now = self.clock.now()
        decided = self._decide(
            ticket,
            self._agents(event.agent_id, ticket),
            lambda agent: reply(ticket, agent, reply_id=event.reply_id, text=event.text, now=now),
        )
        if decided is None:
            return
        agent, step = decided
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
        if ticket is None or ticket.status == "resolved":
            return  # unknown here, or resolved already (by us: the echo of our own resolve)
        now = self.clock.now()
        root = event.root_cause or DEFAULT_ROOT_CAUSE
        decided = self._decide(
            ticket,
            self._agents(event.agent_id, ticket),
            lambda agent: resolve(ticket, agent, root_cause=root, now=now),
        )
        if decided is not None:
            await self._apply(uow, decided[1])

    async def on_note(self, event: HelpdeskNoteReceived, uow: UnitOfWork) -> None:
        """An internal note on the desk, said to come from Freshdesk (and from whom there)."""
        ticket = await TicketStore(uow).ticket(event.ticket_id)
        if ticket is None:
            log.warning("Freshdesk note on unknown ticket %s", event.ticket_id)
            return
        now = self.clock.now()
        who = f" by {event.helpdesk_agent}" if event.helpdesk_agent else ""
        text = f"(Freshdesk note{who}) {event.text}"
        decided = self._decide(
            ticket,
            self._agents(event.agent_id, ticket),
            lambda agent: add_note(ticket, agent, note_id=event.note_id, text=text, now=now),
        )
        if decided is None:
            return
        agent, step = decided
        if not await DeskStore(uow).add_note(
            note_id=event.note_id,
            ticket_id=ticket.ticket_id,
            agent_id=agent.id,
            text=text,
            kind="note",
            added_at=now,
        ):
            return  # this note was taken before
        for e in step.events:
            uow.emit(e)
        await DeskStore(uow).add_history(history_rows(step.events))

    async def on_reopened(self, event: HelpdeskTicketReopened, uow: UnitOfWork) -> None:
        ticket = await TicketStore(uow).ticket(event.ticket_id, lock=True)
        if ticket is None or ticket.status not in ("resolved", "pending"):
            return  # unknown here, or open already (the customer wrote back first)
        now = self.clock.now()
        decided = self._decide(
            ticket,
            self._agents(event.agent_id, ticket),
            lambda agent: reopen_by_agent(ticket, agent, now=now),
        )
        if decided is not None:
            await self._apply(uow, decided[1])
