"""Who is at the desk, and handing work out when that changes.

:class:`Roster` answers who exists (the configuration) and who is available now (presence
set at the desk, shifts). :class:`Dispatcher` drains the unowned queue to agents with room
the moment capacity or presence frees up, hands an offline agent's tickets on, and moves
tickets idle in someone's hands; :class:`DeskWorker` runs it periodically too, so a shift
starting or an idle timer passing is noticed without an event (and forgets old
idempotency keys and ended desk sessions).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from socialdesk_assigner.domain import Rotation, Ticket
from socialdesk_assigner.domain.desk import dispatch, release
from socialdesk_assigner.domain.presence import available
from socialdesk_assigner.domain.routing import Needs
from socialdesk_assigner.domain.views import history_rows
from socialdesk_assigner.store import DeskStore, ReadModelStore, TicketStore
from socialdesk_assigner.store.sessions import SessionStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import Agent, SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork, UnitOfWorkFactory
from socialdesk_schemas import Event

__all__ = ["DeskWorker", "Dispatcher", "Roster"]

log = logging.getLogger(__name__)
_DRAIN_BATCH = 200
#: How long an Idempotency-Key is remembered (a client retries within minutes).
_KEYS_KEPT = timedelta(hours=24)


class Roster:
    def __init__(self, config: SocialdeskConfig) -> None:
        self.config = config
        self._by_id = {a.id: a for a in config.agents}

    def known(self, agent_id: str | None) -> Agent | None:
        """The configured agent, ``None`` if unknown (for example removed from the file)."""
        return None if agent_id is None else self._by_id.get(agent_id)

    async def online(self, uow: UnitOfWork, now: datetime) -> set[str]:
        return self.available(await DeskStore(uow).presence(), now)

    def available(self, states: Mapping[str, str], now: datetime) -> set[str]:
        """Who may get new work now, given the presence set at the desk."""
        return available(self.config.agents, states, self.config.desk.shifts, now)

    async def statuses(self, uow: UnitOfWork, now: datetime) -> dict[str, str]:
        states = await DeskStore(uow).presence()
        online = available(self.config.agents, states, self.config.desk.shifts, now)
        out = {}
        for agent in self.config.agents:
            status = states.get(agent.id, "online" if agent.online else "offline")
            out[agent.id] = "off_shift" if status == "online" and agent.id not in online else status
        return out


class Dispatcher:
    def __init__(self, roster: Roster) -> None:
        self.roster = roster

    async def _rotation(self, uow: UnitOfWork, brands: Collection[str], now: datetime) -> Rotation:
        config = self.roster.config
        store = TicketStore(uow)
        online = await self.roster.online(uow, now)
        ids = {a.id for a in config.agents if a.id in online and set(a.brands) & set(brands)}
        return Rotation(
            config,
            load=await store.open_load(ids),
            last_owner={},
            cursor=await store.lock_cursors(brands),
            online=online,
        )

    async def drain(self, uow: UnitOfWork, brands: Collection[str], now: datetime) -> list[Event]:
        """Give unowned tickets of ``brands`` to available agents with room, most urgent first."""
        brands = sorted(set(brands))
        if not brands:
            return []
        waiting = await DeskStore(uow).unowned(brands, limit=_DRAIN_BATCH)
        if not waiting:
            return []
        rotation = await self._rotation(uow, brands, now)
        return await self._hand_out(uow, rotation, waiting, now, release_reason=None)

    async def hand_on(self, uow: UnitOfWork, agent: Agent, now: datetime, *, reason: str) -> list[Event]:
        """An agent left (offline) or sat idle: their tickets go to colleagues, else the queue."""
        tickets = await DeskStore(uow).open_tickets_of(agent.id)
        if not tickets:
            return []
        rotation = await self._rotation(uow, agent.brands, now)
        if rotation.online is not None:
            rotation.online = set(rotation.online) - {agent.id}
        return await self._hand_out(uow, rotation, tickets, now, release_reason=reason)

    async def reassign_idle(self, uow: UnitOfWork, now: datetime) -> list[Event]:
        idle = self.roster.config.desk.idle_reassign_seconds
        if idle is None:
            return []
        stale = await DeskStore(uow).idle(before=now - timedelta(seconds=idle), limit=_DRAIN_BATCH)
        events: list[Event] = []
        for ticket in stale:
            owner = ticket.agent_id
            rotation = await self._rotation(uow, [ticket.brand], now)
            rotation.online = set(rotation.online or ()) - {owner or ""}
            events += await self._hand_out(
                uow, rotation, [ticket], now, release_reason=f"idle for more than {idle:.0f}s with {owner}"
            )
        return events

    async def _hand_out(
        self,
        uow: UnitOfWork,
        rotation: Rotation,
        tickets: list[Ticket],
        now: datetime,
        *,
        release_reason: str | None,
    ) -> list[Event]:
        changed: list[Ticket] = []
        events: list[Event] = []
        texts = (
            await ReadModelStore(uow).opening_texts([t.ticket_id for t in tickets])
            if self.roster.config.routing.keyword_rules
            else {}
        )
        for ticket in tickets:
            needs = Needs(
                category=ticket.category,
                platform=ticket.platform,
                kind=ticket.kind,
                language=ticket.language,
                text=texts.get(ticket.ticket_id, ""),
            )
            pick = rotation.choose(ticket.brand, ticket.customer_id, needs)
            if pick is not None:
                step = dispatch(
                    ticket, pick.agent, reason="reassigned" if ticket.agent_id else pick.reason, now=now
                )
            elif release_reason is not None:
                step = release(ticket, reason=release_reason, now=now)
            else:
                continue
            changed.append(step.ticket)
            events.extend(step.events)
        await TicketStore(uow).save(changed)
        await TicketStore(uow).save_cursors({b: rotation.cursor[b] for b in rotation.moved})
        for event in events:
            uow.emit(event)
        await DeskStore(uow).add_history(history_rows(events, now))
        return events


class DeskWorker:
    """Every ``interval`` seconds: drain every brand's queue and move idle tickets."""

    def __init__(
        self, dispatcher: Dispatcher, uow_factory: UnitOfWorkFactory, clock: Clock, *, interval: float = 5.0
    ) -> None:
        self._dispatcher = dispatcher
        self._uow_factory = uow_factory
        self._clock = clock
        self._interval = interval
        self._stop = asyncio.Event()

    async def tick(self) -> int:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            brands = [b.id for b in self._dispatcher.roster.config.brands]
            events = await self._dispatcher.reassign_idle(uow, now)
            events += await self._dispatcher.drain(uow, brands, now)
            await DeskStore(uow).forget_keys(before=now - _KEYS_KEPT)
            await SessionStore(uow).prune(now=now)
            await uow.commit()
        return len(events)

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception:  # a failed tick is retried next interval; never kill the service
                log.exception("desk worker tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval)

    def stop(self) -> None:
        self._stop.set()
