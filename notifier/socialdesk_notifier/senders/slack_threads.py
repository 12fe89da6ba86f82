"""The Slack sender (issue 11): one thread per ticket per channel, live parents, paced posts.

A ticket delivery (``payload["threaded"]``) becomes the thread's parent when it is the
first to reach the sender for its ticket and channel (the thread row is written in a short
transaction before the post, while the delivery is leased), or a reply under the parent's
ts once that is known; until then it waits a second without counting as a failed attempt.
An update delivery (``payload["op"] == "update"``) re-renders the parent from the ticket's
current facts and ``chat.update``s it: only a ts from our own thread table is ever updated.

Posts to one channel are paced to Slack's ~1 per second (``interval`` seconds apart) and
``chat.update`` to the workspace's budget (``updates_per_minute``, Slack allows about 50),
by every notifier replica on the database together (:mod:`~socialdesk_notifier.senders.pacing`);
a delivery whose turn is further away than ``max_wait`` is handed back to the worker to
try again at its turn, and a 429 holds the channel (or the update budget) for its
``Retry-After``, for every replica.

Usage::

    sender = SlackSender(api=SlackApi(token=..., base_url=...), uow_factory=..., config=..., clock=...,
                         desk_url="http://127.0.0.1:8083", interval=1.1, updates_per_minute=50,
                         max_wait=7.5)
    result = await sender.send(delivery)
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Final

from socialdesk_notifier.domain import Delivery, SendResult
from socialdesk_notifier.domain.alerts import UPDATE
from socialdesk_notifier.domain.cards import parent_card
from socialdesk_notifier.domain.threads import Parent, Posted, Reply, Wait, thread_step
from socialdesk_notifier.senders.pacing import Pace, Pacer
from socialdesk_notifier.senders.slack import SlackApi
from socialdesk_notifier.slack_store import SlackStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_schemas import Channel

__all__ = ["SlackSender"]

log = logging.getLogger(__name__)

#: The ``chat.update`` lane: one budget for the workspace (the bot's token is one workspace's).
_WORKSPACE: Final = "workspace"
#: How long a reply waits before asking again whether its thread's parent is posted.
PARENT_WAIT_SECONDS: Final = 1.0


def _wait(seconds: float, why: str) -> SendResult:
    """Not now, and not a failure: the worker reschedules it (as throttled) after ``seconds``."""
    return SendResult(ok=False, error=why, retry_after=max(0.05, seconds), throttled=True)


class SlackSender:
    channel: Final[Channel] = "slack"

    def __init__(
        self,
        *,
        api: SlackApi,
        uow_factory: UnitOfWorkFactory,
        config: SocialdeskConfig,
        clock: Clock,
        desk_url: str,
        interval: float = 1.1,
        updates_per_minute: float = 50.0,
        max_wait: float = 7.5,
    ) -> None:
        self._api = api
        self._uow_factory = uow_factory
        self._config = config
        self._clock = clock
        self._desk_url = desk_url
        self._max_wait = max_wait
        self._posts = Pacer(uow_factory, Pace(ceiling=1.0 / interval), kind="slack-post")
        self._updates = Pacer(uow_factory, Pace(ceiling=updates_per_minute / 60.0), kind="slack-update")
        #: Seconds spent waiting for a channel's turn, by delivery id (the bench excludes them).
        self.paced_seconds: dict[str, float] = {}
        #: The owed updates a sent render of each thread parent covered, by (ticket, channel).
        self._shown: dict[tuple[str, str], set[uuid.UUID]] = {}

    async def send(self, delivery: Delivery) -> SendResult:
        if delivery.payload.get("op") == UPDATE:
            return await self._update(delivery)
        thread_ts: str | None = None
        parent = False
        if delivery.payload.get("threaded"):
            step = await self._thread_step(delivery)
            if isinstance(step, Wait):
                return _wait(PARENT_WAIT_SECONDS, "waiting for the thread's parent to be posted")
            if isinstance(step, Posted):
                return SendResult(ok=True, external_ref=step.ts)
            if isinstance(step, Reply):
                thread_ts = step.thread_ts
            parent = isinstance(step, Parent)
        turn = await self._turn(self._posts, delivery.destination, delivery)
        if turn is not None:
            return turn
        result = await self._api.post(delivery, thread_ts=thread_ts)
        await self._after(self._posts, delivery.destination, result)
        if result.ok and parent and result.external_ref:
            await self._parent_posted(delivery, result.external_ref)
        return result

    async def find_sent(self, delivery: Delivery, *, since: datetime) -> str | None:
        if delivery.payload.get("op") == UPDATE:
            return None  # an update sets the current state again: safe to repeat
        if not delivery.payload.get("threaded"):
            return await self._api.find_sent(delivery, since=since)
        async with self._uow_factory.quiet() as uow:
            parent = await SlackStore(uow).parent_of(delivery.ticket_id, delivery.destination)
        if parent is not None and parent[0] != delivery.id and parent[1] is not None:
            # A reply: thread replies are not in the channel history, only under their parent.
            return await self._api.find_sent(delivery, since=since, thread_ts=parent[1])
        found = await self._api.find_sent(delivery, since=since)
        if found is not None:
            await self._parent_posted(delivery, found)
        return found

    # --- threads --------------------------------------------------------------------------

    async def _thread_step(self, delivery: Delivery) -> Parent | Posted | Reply | Wait:
        now = self._clock.now()
        async with self._uow_factory.quiet() as uow:
            store = SlackStore(uow)
            row = await store.thread_row(delivery.ticket_id, delivery.destination)
            step = thread_step(row, delivery.id)
            kind = str(delivery.payload.get("kind", "ticket"))
            if row is None:
                if not await store.claim_thread(
                    delivery.ticket_id, delivery.destination, delivery.id, kind=kind, now=now
                ):
                    step = Wait()  # another replica's delivery became the parent just now
            elif isinstance(step, Parent) and step.take_over:
                await store.take_over_thread(delivery.ticket_id, delivery.destination, delivery.id)
            await uow.commit()
        return step

    async def _parent_posted(self, delivery: Delivery, ts: str) -> None:
        async with self._uow_factory.quiet() as uow:
            await SlackStore(uow).set_parent_ts(delivery.ticket_id, delivery.destination, delivery.id, ts)
            await uow.commit()

    async def _update(self, delivery: Delivery) -> SendResult:
        async with self._uow_factory.quiet() as uow:
            parent = await SlackStore(uow).parent(delivery.ticket_id, delivery.destination)
        if parent is None:
            return SendResult(ok=True, external_ref=None)  # no thread of ours there: nothing to update
        ts, kind, status = parent
        if ts is None:
            if status in ("pending", "sending"):
                return _wait(PARENT_WAIT_SECONDS, "waiting for the thread's parent to be posted")
            return SendResult(ok=True, external_ref=None)
        key = (str(delivery.ticket_id), delivery.destination)
        if self._covered(key, delivery):
            return SendResult(ok=True, external_ref=ts)
        # chat.update has no per-channel limit: it is Tier 3, one budget per workspace. A
        # click's update may go up to max_wait ahead of the routine ones (as far as they can
        # have reserved), so it never waits behind a flood's backlog; clicks come at human
        # speed, and each still takes its slot, so the budget holds over the minute.
        ahead = self._max_wait if delivery.payload.get("urgent") else 0.0
        turn = await self._turn(self._updates, _WORKSPACE, delivery, ahead=ahead)
        if turn is not None:
            return turn
        if self._covered(key, delivery):  # another update went out while this one waited
            return SendResult(ok=True, external_ref=ts)
        # The state is read at the moment of sending: the parent shows what is true now.
        # The updates owed are read first: the state read after them shows all of theirs.
        rendered_at = self._clock.now()
        async with self._uow_factory.quiet() as uow:
            store = SlackStore(uow)
            owed = await store.owed_updates(delivery.ticket_id, delivery.destination)
            ctx = await store.context(delivery.ticket_id)
        if ctx is None:
            return SendResult(ok=True, external_ref=None)
        content = parent_card(ctx, config=self._config, now=rendered_at, desk_url=self._desk_url, kind=kind)
        result = await self._api.update(delivery.destination, ts, content)
        await self._after(self._updates, _WORKSPACE, result)
        if result.ok:
            if len(self._shown) > 10_000:
                self._shown.clear()
            self._shown.setdefault(key, set()).update(owed)
            async with self._uow_factory.quiet() as uow:
                await SlackStore(uow).coalesce_updates(owed, keep=delivery.id)
                await uow.commit()
        return result

    def _covered(self, key: tuple[str, str], delivery: Delivery) -> bool:
        """A render sent since this update was on record already showed its state."""
        return delivery.id in self._shown.get(key, ())

    # --- pacing ---------------------------------------------------------------------------------

    async def _turn(
        self, pacer: Pacer, lane: str, delivery: Delivery, *, ahead: float = 0.0
    ) -> SendResult | None:
        """Wait for the lane's turn; a turn too far away goes back to the worker instead."""
        turn = await pacer.reserve(lane, max_wait=self._max_wait, ahead=ahead)
        if not turn.granted:
            return _wait(turn.wait, f"paced: {lane} is busy")
        if turn.wait > 0:
            self.paced_seconds[str(delivery.id)] = turn.wait
            if len(self.paced_seconds) > 10_000:
                self.paced_seconds.clear()
            await asyncio.sleep(turn.wait)
        return None

    async def _after(self, pacer: Pacer, lane: str, result: SendResult) -> None:
        if result.throttled and result.retry_after is not None:
            log.warning("slack throttled %s: holding it %.1f s", lane, result.retry_after)
            await pacer.hold(lane, result.retry_after)
