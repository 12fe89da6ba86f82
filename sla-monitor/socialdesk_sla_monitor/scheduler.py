"""The loop that fires warnings, breaches and escalations at their due time.

It sleeps until the next due time (not a poll): on the injected clock until the earliest
warning, deadline or escalation, or ``max_idle_seconds`` at most (timers armed by another
replica). A consumer's commit wakes it early only when that commit armed or moved a timer
due before the planned wake-up (the handlers tell :meth:`SlaScheduler.armed`, the commit
rings :meth:`SlaScheduler.committed`): a wake-up costs a transaction and six look-ups,
and most commits (customer messages, classifications, far deadlines) change nothing
sooner. Rules are the domain's; SQL is the store's.

Two guards keep a reply made in time from paging anyone (issue 7.6): a deadline is judged
``grace_seconds`` after it passed (a reply travels through the assigner's outbox, the
broker and our consumer), and while the consumer lags (``lagging()``, checked at every
pass, not only at start) breaches and climbs are held, for ``lag_hold_max_seconds`` at
most: a page late is better than none. Replies are judged by when they were made
(``replied_at``), so a held breach whose reply arrives is met in time.

A timer the domain cannot decide (a brand gone from the configuration) is parked and
counted, and every other due timer still fires (issue 7.5).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.workers import LoopControl
from socialdesk_schemas import TicketEscalated
from socialdesk_sla_monitor import domain
from socialdesk_sla_monitor.metrics import SlaMetrics
from socialdesk_sla_monitor.store import TimerStore

__all__ = ["SlaScheduler"]

log = logging.getLogger(__name__)

# How often the live-timer gauges are recounted (seconds): a count over a million rows
# costs a few hundred milliseconds of a core.
_GAUGE_EVERY = 15.0


class SlaScheduler:
    """Fires what is due at its due time.

    :meth:`passed` lets a caller wait until a pass has judged the timers at a given
    instant, the observable way to know that something did *not* fire.
    """

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        config: SocialdeskConfig,
        clock: Clock,
        metrics: SlaMetrics,
        max_idle_seconds: float = 1.0,
        batch: int = 2000,
        ready: asyncio.Event | None = None,
        grace_seconds: float = 0.0,
        lagging: Callable[[], bool] | None = None,
        lag_hold_max_seconds: float = 60.0,
    ) -> None:
        self._ready = ready
        self._grace = timedelta(seconds=grace_seconds)
        self._lagging = lagging
        self._lag_hold_max = timedelta(seconds=lag_hold_max_seconds)
        self._lag_since: datetime | None = None
        self._uow_factory = uow_factory
        self._config = config
        self._clock = clock
        self._metrics = metrics
        self._max_idle = timedelta(seconds=max_idle_seconds)
        self._batch = batch
        self._passed_at: datetime | None = None
        self._pass_done = asyncio.Condition()
        # notify(): a timer may have been armed, re-plan the next wake-up.
        self._control = LoopControl()
        self.notify: Callable[[], None] = self._control.notify
        self.stop: Callable[[], None] = self._control.stop
        # When the loop sleeps: until when (None while a pass runs); the earliest due time
        # armed since the last commit; whether the last pass held breaches for the consumer.
        self._asleep_until: datetime | None = None
        self._due_soon: datetime | None = None
        self._held = False

    def armed(self, timers: Iterable[domain.Timer]) -> None:
        """The consumer armed or moved these timers (not committed yet): remember the
        earliest time one of them needs a pass, for :meth:`committed`."""
        for timer in timers:
            due = timer.deadline if timer.warned or timer.warn_at is None else timer.warn_at
            if due is not None and (self._due_soon is None or due < self._due_soon):
                self._due_soon = due

    def committed(self) -> bool:
        """A consumer's commit: wake the loop if it armed a timer due before the planned
        wake-up (or while a pass runs, which may not have seen it), or if breaches are held
        for the consumer to catch up. Returns whether it rang."""
        due, self._due_soon = self._due_soon, None
        ring = self._held or (due is not None and (self._asleep_until is None or due < self._asleep_until))
        if ring:
            self._control.notify()
        return ring

    async def run(self) -> None:
        if self._ready is not None and not self._ready.is_set():
            # A reply may be waiting unread: judging deadlines before the consumer caught
            # up would page a lead for a ticket that was answered in time.
            log.info("sla scheduler: waiting for the consumer to catch up before firing")
            await self._ready.wait()
        # Counting a million live timers takes a while: never on the firing path.
        gauges = asyncio.create_task(self._refresh_gauges())
        try:
            await self._fire_loop()
        finally:
            gauges.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await gauges

    async def _refresh_gauges(self) -> None:
        while not self._control.stopping:
            try:
                await self.refresh_gauge()
            except Exception:
                log.exception("sla scheduler: counting the timers failed")
            await asyncio.sleep(_GAUGE_EVERY)

    async def _fire_loop(self) -> None:
        while not self._control.stopping:
            now = self._clock.now()
            try:
                next_due = await self.fire_due(now)
            except Exception:
                log.exception("sla scheduler: firing failed; retrying")
                next_due = None
            wake_at = now + self._max_idle
            if next_due is not None:
                wake_at = min(wake_at, next_due)
            await self._sleep_until(wake_at)

    async def _sleep_until(self, wake_at: datetime) -> None:
        """Until ``wake_at`` on the clock, or a notification, or ``stop``, whichever first."""
        # Measured now, not when the pass began: a clock that moved during the pass
        # (a fake one in tests, or a slow pass) must not push the wake-up further away.
        seconds = (wake_at - self._clock.now()).total_seconds()
        if seconds <= 0:
            return
        tick = asyncio.ensure_future(self._clock.sleep(seconds))
        # The doorbell is bounded by the same duration in loop time.
        bell = asyncio.ensure_future(self._control.pause(seconds))
        self._asleep_until = wake_at
        try:
            await asyncio.wait((tick, bell), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._asleep_until = None
            for waiter in (tick, bell):
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter

    async def passed(self, at: datetime) -> None:
        """Return once a pass that judged the timers at ``at`` or later has committed."""
        async with self._pass_done:
            await self._pass_done.wait_for(lambda: self._passed_at is not None and self._passed_at >= at)

    async def refresh_gauge(self) -> None:
        """Recount the live timers by clock and the oldest overdue deadline."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            store = TimerStore(uow)
            armed = await store.count_armed()
            oldest = await store.oldest_overdue(now)
        for metric in ("first_response", "next_response", "resolution", "follow_up"):
            self._metrics.timers_armed.labels(metric=metric).set(armed.get(metric, 0))
        self._metrics.oldest_overdue_seconds.set(0.0 if oldest is None else (now - oldest).total_seconds())

    async def fire_due(self, now: datetime | None = None) -> datetime | None:
        """Emit everything due at ``now`` (the clock's by default) in one transaction;
        return when the next thing is due.

        Commits only when something fired: an idle scheduler writes nothing. Its own
        commits do not wake it (a quiet unit of work); the consumer's commits do.
        """
        now = self._clock.now() if now is None else now
        holding = self._holding(now)
        parked: list[domain.Timer] = []
        async with self._uow_factory.quiet() as uow:
            store = TimerStore(uow)
            warned = await self._fire(
                store,
                await store.due_warnings(now, limit=self._batch),
                lambda t: domain.warn(t, now),
                parked,
            )
            breached: list[tuple[domain.Timer, domain.Fired]] = []
            climbed: list[tuple[domain.Timer, domain.Fired]] = []
            if not holding:
                breached = await self._fire(
                    store,
                    await store.due_deadlines(now - self._grace, limit=self._batch),
                    lambda t: domain.breach(t, now, self._config),
                    parked,
                )
                climbed = await self._fire(
                    store,
                    await store.due_escalations(now, limit=self._batch),
                    lambda t: domain.climb(t, now, self._config),
                    parked,
                )
            next_due = await store.next_due(grace=self._grace)
            for _, fired in (*warned, *breached, *climbed):
                for event in fired.events:
                    uow.emit(event)
            if warned or breached or climbed or parked:
                await uow.commit()
        self._observe(warned, breached, climbed, now)
        for timer in parked:
            self._metrics.parked.labels(metric=timer.metric).inc()
        # Breaches due but held: a consumer's commit (a reply read) rings for a look again.
        self._held = holding and next_due is not None and next_due <= now
        if self._held:
            # Held breaches are due already: look again at the next idle wake-up (or
            # when the consumer's commit rings), not in a busy loop.
            next_due = None
        async with self._pass_done:
            self._passed_at = now
            self._metrics.scheduler_passes.inc()
            self._pass_done.notify_all()
        return next_due

    def _holding(self, now: datetime) -> bool:
        """Whether breaches wait for the consumer (lagging, and not for too long yet)."""
        lagging = self._lagging is not None and self._lagging()
        if not lagging:
            self._lag_since = None
            return False
        if self._lag_since is None:
            self._lag_since = now
            log.warning("sla scheduler: the consumer lags; breaches wait for replies to be read")
        return now - self._lag_since < self._lag_hold_max

    @staticmethod
    async def _fire(
        store: TimerStore,
        due: list[domain.Timer],
        decide: Callable[[domain.Timer], domain.Fired],
        parked: list[domain.Timer],
    ) -> list[tuple[domain.Timer, domain.Fired]]:
        decided: list[tuple[domain.Timer, domain.Fired]] = []
        for timer in due:
            try:
                decided.append((timer, decide(timer)))
            except Exception:
                log.exception(
                    "sla scheduler: cannot decide timer %s/%s; parked", timer.ticket_id, timer.metric
                )
                parked.append(domain.park(timer))
        await store.save([*(fired.timer for _, fired in decided), *parked])
        return decided

    def _observe(
        self,
        warned: Sequence[tuple[domain.Timer, domain.Fired]],
        breached: Sequence[tuple[domain.Timer, domain.Fired]],
        climbed: Sequence[tuple[domain.Timer, domain.Fired]],
        now: datetime,
    ) -> None:
        m = self._metrics
        for before, fired in warned:
            if fired.events and before.warn_at is not None:
                m.warnings.labels(metric=before.metric, priority=before.priority).inc()
                m.fire_lateness_seconds.observe((now - before.warn_at).total_seconds())
        for before, _ in breached:
            m.breaches.labels(brand=before.brand, metric=before.metric, priority=before.priority).inc()
            if before.deadline is not None:
                # Late against when it was meant to fire: the deadline plus the grace.
                due = before.deadline + self._grace
                m.fire_lateness_seconds.observe((now - due).total_seconds())
        for _, fired in (*breached, *climbed):
            for event in fired.events:
                if isinstance(event, TicketEscalated):
                    m.escalations.labels(to_level=event.to_level).inc()
