"""Pacing of sends, shared by every notifier replica on one database (decision 0403).

One :class:`Pacer` per kind of limit: Slack posts per channel, the workspace's
``chat.update`` budget, platform sends per sending account (and per recipient). The slot
arithmetic is :mod:`socialdesk_notifier.domain.pacing`'s; the lanes live in the
notifier's database (:class:`~socialdesk_notifier.pacing_store.PacingStore`), so two
replicas together keep a channel's or an account's pace, and a throttle one of them saw
(its hold, its rate cut) slows the other too.

A reservation is one autocommit statement (one round trip). A throttle, a hold, and a
clean send while a cut rate recovers lock the lane's row instead (rare). Recipients are
kept in the lane hashed: no customer id is stored for pacing.

Usage::

    pacer = Pacer(uow_factory, Pace(ceiling=20, recipient_interval=1.0, adaptive=True), kind="account")
    turn = await pacer.reserve("730011223344556", recipient="6123456789012345", max_wait=5)
    if not turn.granted: ...  # too long: reschedule after turn.wait instead of holding the lease
    await asyncio.sleep(turn.wait); ...send...
    await pacer.sent("730011223344556", turn)                           # a clean send
    await pacer.throttled("730011223344556", hold_seconds=4)            # after a 613
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from socialdesk_notifier.domain import pacing
from socialdesk_notifier.domain.pacing import Lane, Pace, Turn
from socialdesk_notifier.pacing_store import PacingStore
from socialdesk_runtime.db import UnitOfWorkFactory

__all__ = ["Pace", "Pacer", "Turn"]


def _recipient_key(recipient: str | None) -> str | None:
    if recipient is None:
        return None
    return hashlib.blake2b(recipient.encode(), digest_size=8).hexdigest()


class Pacer:
    """Lanes of one ``kind`` (the prefix of their keys in the store), all paced by ``pace``."""

    def __init__(self, uow_factory: UnitOfWorkFactory, pace: Pace, *, kind: str) -> None:
        self._uow_factory = uow_factory
        self.pace = pace
        self._kind = kind

    def _key(self, lane: str) -> str:
        return f"{self._kind}:{lane}"

    async def reserve(
        self, lane: str, *, max_wait: float, recipient: str | None = None, ahead: float = 0.0
    ) -> Turn:
        """The next slot of ``lane`` (and ``recipient``); refused (nothing reserved) when
        it is more than ``max_wait`` seconds away. ``ahead``: see ``domain.pacing``."""
        async with self._uow_factory.autocommit() as uow:
            return await PacingStore(uow).reserve(
                self._key(lane),
                self.pace,
                max_wait=max_wait,
                recipient=_recipient_key(recipient),
                ahead=ahead,
            )

    async def sent(self, lane: str, turn: Turn) -> None:
        """A clean send on ``turn``: a rate cut by a throttle recovers a little."""
        if turn.rate < self.pace.ceiling:  # at the ceiling (nearly always): nothing to write
            await self._change(lane, lambda state, _now: pacing.sent(state, self.pace))

    async def throttled(
        self, lane: str, *, hold_seconds: float, recipient: str | None = None, explicit: bool = False
    ) -> None:
        """Hold the recipient (or the lane) ``hold_seconds``; ``explicit``: see ``domain.pacing``."""
        key = _recipient_key(recipient)
        await self._change(
            lane,
            lambda state, now: pacing.throttled(
                state, self.pace, now=now, hold=hold_seconds, recipient=key, explicit=explicit
            ),
        )

    async def hold(self, lane: str, seconds: float) -> None:
        """No send on ``lane`` for ``seconds`` (the other side said its budget is spent)."""
        await self._change(lane, lambda state, now: pacing.held(state, now=now, seconds=seconds))

    async def lane(self, lane: str) -> Lane:
        """The lane's state now (for operators and tests)."""
        async with self._uow_factory.quiet() as uow:
            return await PacingStore(uow).lane(self._key(lane)) or Lane()

    async def _change(self, lane: str, change: Callable[[Lane, float], Lane]) -> None:
        async with self._uow_factory.quiet() as uow:
            store = PacingStore(uow)
            state, now = await store.locked(self._key(lane))
            await store.save(self._key(lane), change(state, now))
            await uow.commit()
