"""Slack's Take ownership: the notifier verified the click and published
``OwnershipRequested``; the assigner gives the ticket to that agent by the desk's rules
(:mod:`socialdesk_assigner.domain.ownership`), or publishes ``OwnershipRefused`` with why.

A redelivered request is a no-op (the runtime's inbox); a second press by the owner
changes nothing. Every request leaves a line in the ticket's history."""

from __future__ import annotations

from typing import Any

from socialdesk_assigner.domain.ownership import take_ownership
from socialdesk_assigner.domain.views import history_rows
from socialdesk_assigner.presence import Roster
from socialdesk_assigner.store import DeskStore, TicketStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import Event
from socialdesk_schemas.desk import OwnershipRefused
from socialdesk_schemas.outbound import OwnershipRequested

__all__ = ["OwnershipHandlers"]


class OwnershipHandlers:
    def __init__(self, *, clock: Clock, roster: Roster) -> None:
        self._clock = clock
        self._roster = roster

    def table(self) -> dict[type[Event], Any]:
        return {OwnershipRequested: self.on_requested}

    async def on_requested(self, event: OwnershipRequested, uow: UnitOfWork) -> None:
        now = self._clock.now()
        store = TicketStore(uow)
        ticket = await store.ticket(event.ticket_id, lock=True)
        outcome = take_ownership(ticket, self._roster.known(event.agent_id), event, now=now)
        desk = DeskStore(uow)
        line = {
            "ticket_id": event.ticket_id,
            "at": now,
            "kind": "TakeOwnershipInSlack",
            "actor": event.agent_id,
            "detail": f"Slack user {event.slack_user_id}",
        }
        if isinstance(outcome, OwnershipRefused):
            uow.emit(outcome)
            if ticket is not None:  # no history for a ticket the desk has never seen
                await desk.add_history(
                    [{**line, "detail": f"{line['detail']}: refused: {outcome.reason}"[:1000]}]
                )
            return
        await desk.add_history([line])
        if not outcome.events:
            return
        await store.save([outcome.ticket])
        for emitted in outcome.events:
            uow.emit(emitted)
        await desk.add_history(history_rows(outcome.events))
