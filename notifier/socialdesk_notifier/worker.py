"""The delivery worker: claims due deliveries, sends them, records the outcome.

A thin loop: the store leases and records, the domain decides (look first? send? sent,
failed or retry when?), the senders talk outward. See :mod:`socialdesk_notifier.domain.delivery`
for why nothing goes out twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from socialdesk_notifier.domain import Decision, Delivery, DeliveryPolicy, Failed, Retry, Sent, outcome_event
from socialdesk_notifier.metrics import NotifierMetrics
from socialdesk_notifier.senders import Sender, Senders
from socialdesk_notifier.senders.errors import EchoPending, LookupImpossible, LookupThrottled
from socialdesk_notifier.store import DeliveryStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.workers import LoopControl

__all__ = ["DeliveryWorker"]

log = logging.getLogger(__name__)


class DeliveryWorker:
    """Usage: ``task = asyncio.create_task(worker.run())``; ``worker.stop()`` ends it."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        senders: Senders,
        clock: Clock,
        metrics: NotifierMetrics,
        policy: DeliveryPolicy,
        poll_seconds: float = 0.5,
        batch: int = 20,
        before_claim: Sequence[Callable[[], Awaitable[object]]] = (),
    ) -> None:
        self._uow_factory = uow_factory
        self._senders = senders
        self._clock = clock
        self._metrics = metrics
        self._policy = policy
        self._poll = poll_seconds
        self._batch = batch
        #: Passes over the log before each claim (the Slack digest folds a flood first).
        self._before_claim = tuple(before_claim)
        self._control = LoopControl()
        self.notify = self._control.notify
        self.stop = self._control.stop
        #: Channels (slack, x, ...) whose last attempt failed for a passing reason: the
        #: first success there afterwards pulls the deliveries backed off meanwhile forward.
        self._troubled: set[str] = set()

    async def run(self) -> None:
        while not self._control.stopping:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("delivery worker: round failed; retrying")
                handled = 0
            if handled < self._batch:
                await self._control.pause(self._poll)

    async def run_once(self) -> int:
        """One pass: claim what is due and deliver it; returns how many were claimed."""
        for step in self._before_claim:
            try:
                await step()
            except Exception:
                log.exception("delivery worker: a pass before the claim failed; claiming anyway")
        claimed = await self.claim()
        if claimed:
            await asyncio.gather(*(self.deliver(delivery) for delivery in claimed))
        return len(claimed)

    async def claim(self) -> list[Delivery]:
        now = self._clock.now()
        async with self._uow_factory.quiet() as uow:
            claimed = await DeliveryStore(uow).claim(
                now=now, lease_until=self._policy.lease_until(now), limit=self._batch
            )
            if claimed:  # an idle worker writes nothing
                await uow.commit()
        return claimed

    async def deliver(self, delivery: Delivery) -> None:
        """Send one claimed delivery (unless it went out already) and record the outcome."""
        sender = self._senders.for_channel(delivery.channel)
        decision = await self._look_first(delivery, sender)
        if decision is None:
            if not self._policy.may_send(delivery, self._clock.now()):
                log.warning(
                    "delivery %s: lease ran out before sending; leaving it to the next claim", delivery.id
                )
                return
            started = self._clock.now()
            result = await sender.send(delivery)
            finished = self._clock.now()
            self._metrics.observe_send(sender.channel, (finished - started).total_seconds())
            decision = self._policy.after_send(delivery, result, finished)
        await self._record(delivery, sender, decision)

    async def _look_first(self, delivery: Delivery, sender: Sender) -> Decision | None:
        """After a first attempt, the earlier one may have gone out: find it, or decide nothing."""
        if not self._policy.must_look_first(delivery):
            return None
        try:
            found = await sender.find_sent(delivery, since=self._policy.history_since(delivery))
        except EchoPending as exc:
            log.info("delivery %s: %s", delivery.id, exc)
            return self._policy.lookup_failed(delivery, str(exc), self._clock.now())
        except LookupThrottled as exc:
            log.warning("delivery %s: %s; again in %.0f s", delivery.id, exc, exc.retry_after)
            return self._policy.lookup_failed(
                delivery, str(exc), self._clock.now(), retry_after=exc.retry_after
            )
        except LookupImpossible as exc:
            log.error("delivery %s: cannot check for an earlier send, not re-sending: %s", delivery.id, exc)
            return self._policy.lookup_failed(delivery, str(exc), self._clock.now(), possible=False)
        except Exception as exc:
            log.warning("delivery %s: could not check for an earlier send: %s", delivery.id, exc)
            return self._policy.lookup_failed(delivery, str(exc), self._clock.now())
        if found is None:
            return None
        return self._policy.found_sent(found, self._clock.now())

    async def _record(self, delivery: Delivery, sender: Sender, decision: Decision) -> None:
        channel = delivery.channel
        recovered_channel = isinstance(decision, Sent) and channel in self._troubled
        if isinstance(decision, Retry) and not decision.throttled:
            self._troubled.add(channel)
        elif recovered_channel:
            self._troubled.discard(channel)
        async with self._uow_factory.quiet() as uow:
            store = DeliveryStore(uow)
            await store.record(delivery, decision)
            event = outcome_event(delivery, sender.channel, decision)
            if event is not None:
                uow.emit(event)
            pulled = await store.pull_forward(channel, now=self._clock.now()) if recovered_channel else 0
            await uow.commit()
        if pulled:
            # After an outage the back-off reached minutes: the channel works again, so
            # what waited goes now (paced per channel by the sender), not minutes later.
            log.warning("%s works again: %d deliveries backed off in the outage go now", channel, pulled)
            self.notify()
        if isinstance(decision, Failed):
            # A reply's destination is a customer: never in the logs (issue 11), only its id.
            where = "a customer" if delivery.is_reply else delivery.destination
            log.error(
                "delivery %s to %s %s failed for good (%s): %s",
                delivery.id,
                sender.channel,
                where,
                decision.reason,
                decision.error,
            )
        elif isinstance(decision, Retry):
            log.warning("delivery %s will be retried: %s", delivery.id, decision.error)
        self._metrics.count(sender.channel, decision)
