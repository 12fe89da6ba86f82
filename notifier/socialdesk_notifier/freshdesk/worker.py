"""The Freshdesk worker: claims each ticket's next operation, sends it within the
account's rate budget, records the outcome.

Lease discipline as the notifier's delivery worker: an op is leased before its call and
its outcome recorded after; a create or a note whose answer was lost (timeout, 5xx, a
crash that let the lease run out) is first looked for in Freshdesk (the contact's
tickets carrying our marker tag; the ticket's conversations with the same body) and only
made again when it is not there. One op per ticket at a time (the store's claim), many
tickets at once. Waiting for the budget never eats the lease: an op that cannot go
within a quarter of it goes back to pending without counting an attempt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from socialdesk_notifier.domain.routing import Notification, channel_for
from socialdesk_notifier.freshdesk.client import FreshdeskAccount, NotNow
from socialdesk_notifier.freshdesk.domain.health import health_changed, health_text
from socialdesk_notifier.freshdesk.domain.ops import Mirror, Op, create_body, marker_tag
from socialdesk_notifier.freshdesk.domain.outcomes import (
    Answer,
    Decision,
    Done,
    Failed,
    Paused,
    Retry,
    backoff,
    decide,
)
from socialdesk_notifier.freshdesk.metrics import FreshdeskMetrics
from socialdesk_notifier.freshdesk.store import FreshdeskStore
from socialdesk_notifier.store import DeliveryStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork, UnitOfWorkFactory
from socialdesk_runtime.workers import LoopControl

__all__ = ["FreshdeskWorker"]

log = logging.getLogger(__name__)


class FreshdeskWorker:
    """Usage: ``task = asyncio.create_task(worker.run())``; ``worker.stop()`` ends it."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        accounts: Mapping[str, FreshdeskAccount],
        clock: Clock,
        metrics: FreshdeskMetrics,
        lease_seconds: float = 30.0,
        max_age: timedelta = timedelta(hours=24),
        poll_seconds: float = 0.5,
        batch: int = 50,
        config: SocialdeskConfig | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._accounts = dict(accounts)
        self._clock = clock
        self._metrics = metrics
        self._lease = timedelta(seconds=lease_seconds)
        self._max_age = max_age
        self._poll = poll_seconds
        self._batch = batch
        self._paused: dict[str, datetime] = {}
        #: Brands warned in Slack of an outage not over yet (one warning per outage).
        self._warned: set[str] = set()
        #: For the Slack warning (brand names and channels); none in unit use.
        self._config = config
        #: Brands whose account answered a call well since start or since their last pause:
        #: until then one op at a time probes it, so a wrong key costs one call, not a batch.
        self._proven: set[str] = set()
        self._control = LoopControl()
        self.notify = self._control.notify
        self.stop = self._control.stop
        for brand in self._accounts:
            metrics.connected.labels(brand).set(1)

    @property
    def paused(self) -> dict[str, datetime]:
        now = self._clock.now()
        return {b: until for b, until in self._paused.items() if until > now}

    async def run(self) -> None:
        while not self._control.stopping:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("freshdesk worker: round failed; retrying")
                handled = 0
            if handled == 0:
                await self._control.pause(self._poll)

    async def run_once(self) -> int:
        """One pass: claim what is due (no more than the budgets allow now) and send it."""
        paused = self.paused
        working = [b for b in self._accounts if b not in paused]
        room = sum(self._accounts[b].available() for b in working)
        limit = min(self._batch, room)
        if any(b not in self._proven for b in working):
            limit = min(limit, 1)
        if limit <= 0:
            return 0
        now = self._clock.now()
        async with self._uow_factory.quiet() as uow:
            claimed = await FreshdeskStore(uow).claim(
                now=now, lease_until=now + self._lease, limit=limit, paused=list(paused)
            )
            if claimed:
                await uow.commit()
        if claimed:
            await asyncio.gather(*(self.handle(op, mirror) for op, mirror in claimed))
        return len(claimed)

    async def handle(self, op: Op, mirror: Mirror) -> None:
        account = self._accounts.get(op.brand)
        now = self._clock.now()
        if account is None or op.brand in self.paused:
            until = self._paused.get(op.brand, now + timedelta(minutes=5))
            await self._release(op, until)
            return
        if op.lease_until is not None and op.lease_until - now < self._lease / 2:
            # It waited too long for its turn: sending now could outlive the lease.
            await self._release(op, now)
            return
        max_wait = self._lease.total_seconds() / 4
        carried: list[Op] = []
        if op.kind == "update":
            op, carried = await self._merged(op)
        try:
            decision = await self._look_first(op, mirror, account, max_wait)
            if decision is None:
                answer = await self._send(op, mirror, account, max_wait)
                decision = decide(
                    op,
                    answer,
                    now=self._clock.now(),
                    max_age=self._max_age,
                    pause=timedelta(seconds=account.settings.pause_seconds),
                )
        except NotNow as exc:
            await self._release(op, self._clock.now() + timedelta(seconds=exc.wait))
            return
        await self._record(op, mirror, decision, carried=carried)

    async def _merged(self, op: Op) -> tuple[Op, list[Op]]:
        """The head update with the pending updates right behind it, as one PUT."""
        async with self._uow_factory.quiet() as uow:
            following = await FreshdeskStore(uow).following_updates(op)
        if not following:
            return op, []
        payload = dict(op.payload)
        for later in following:
            for key, value in later.payload.items():
                if key == "add_tags":
                    payload["add_tags"] = [*payload.get("add_tags", []), *value]
                else:
                    payload[key] = value
        return replace(op, payload=payload), following

    async def _send(self, op: Op, mirror: Mirror, account: FreshdeskAccount, max_wait: float) -> Answer:
        payload = op.payload
        if op.kind == "create":
            return await account.create_ticket(
                create_body(mirror, payload, account.settings), max_wait=max_wait
            )
        assert mirror.fd_ticket_id is not None  # the claim waits for the create
        if op.kind == "note":
            body: dict[str, Any] = {"body": payload["body"], "private": bool(payload.get("private", True))}
            if payload.get("incoming"):
                body["incoming"] = True
            return await account.add_note(mirror.fd_ticket_id, body, max_wait=max_wait)
        update: dict[str, Any] = {k: v for k, v in payload.items() if k != "add_tags"}
        if payload.get("add_tags"):
            tags = list(mirror.fd_tags or [marker_tag(mirror.ticket_id)])
            update["tags"] = tags + [t for t in payload["add_tags"] if t not in tags]
        return await account.update_ticket(mirror.fd_ticket_id, update, max_wait=max_wait)

    async def _look_first(
        self, op: Op, mirror: Mirror, account: FreshdeskAccount, max_wait: float
    ) -> Decision | None:
        """After an attempt whose answer was lost: find what it made, or decide nothing."""
        if op.ambiguous_since is None or op.kind == "update":
            return None
        now = self._clock.now()
        failed = Retry("could not look for an earlier attempt", now + timedelta(seconds=backoff(op.attempts)))
        if op.kind == "create":
            contacts = await account.find_contact(mirror.external_id, max_wait=max_wait)
            if contacts.status != 200 or not isinstance(contacts.body, list):
                return failed
            marker = marker_tag(op.ticket_id)
            for contact in contacts.body:
                tickets = await account.tickets_of(int(contact["id"]), max_wait=max_wait)
                if tickets.status != 200 or not isinstance(tickets.body, list):
                    return failed
                for ticket in tickets.body:
                    if marker in (ticket.get("tags") or []):
                        return Done(str(ticket["id"]), self._clock.now(), ticket, recovered=True)
            return None
        assert mirror.fd_ticket_id is not None
        found = await account.conversations(mirror.fd_ticket_id, max_wait=max_wait)
        if found.status != 200 or not isinstance(found.body, list):
            return failed
        for conversation in found.body:
            if conversation.get("body") == op.payload["body"] and bool(conversation.get("private")) == bool(
                op.payload.get("private", True)
            ):
                return Done(str(conversation["id"]), self._clock.now(), conversation, recovered=True)
        return None

    async def _release(self, op: Op, not_before: datetime, *, throttled: bool = False) -> None:
        async with self._uow_factory.quiet() as uow:
            await FreshdeskStore(uow).release(op, not_before=not_before, throttled=throttled)
            await uow.commit()

    async def _record(
        self, op: Op, mirror: Mirror, decision: Decision, *, carried: Sequence[Op] = ()
    ) -> None:
        brand = op.brand
        if isinstance(decision, Retry) and decision.throttled:
            self._metrics.throttled.labels(brand).inc()
            await self._release(op, decision.not_before, throttled=True)
            return
        now = self._clock.now()
        async with self._uow_factory.quiet() as uow:
            store = FreshdeskStore(uow)
            if not await store.record(op, decision, now=now):
                log.warning(
                    "freshdesk op %s: lease lost before its outcome was recorded; the next claim settles it",
                    op.id,
                )
                return
            if isinstance(decision, Done) and decision.ref is not None:
                if op.kind == "create":
                    body = decision.body if isinstance(decision.body, dict) else {}
                    requester = body.get("requester_id")
                    await store.created(
                        op.ticket_id,
                        fd_ticket_id=int(decision.ref),
                        requester_id=int(requester) if requester is not None else None,
                    )
                elif op.kind == "update" and "status" in op.payload:
                    await store.decided(op.ticket_id, fd_status=int(op.payload["status"]))
            if isinstance(decision, Done):
                await store.done_with([c.id for c in carried], ref=decision.ref, at=decision.at)
            healthy = await self._warn(uow, brand, decision, now)
            await uow.commit()
        if healthy is True:
            self._warned.discard(brand)
        elif healthy is False:
            self._warned.add(brand)
        if isinstance(decision, Done):
            self._proven.add(brand)
            if brand in self._paused:
                self.resumed(brand)
            if decision.recovered:
                self._metrics.recovered.labels(brand, op.kind).inc()
                log.info("freshdesk op %s (%s) had gone through: found, not made twice", op.id, op.kind)
            self._metrics.ops.labels(brand, op.kind, "done").inc()
        elif isinstance(decision, Failed):
            self._metrics.ops.labels(brand, op.kind, "failed").inc()
            log.error(
                "freshdesk op %s (%s, ticket %s) failed for good: %s",
                op.id,
                op.kind,
                op.ticket_id,
                decision.error,
            )
        elif isinstance(decision, Paused):
            self._pause(brand, decision)
        else:
            self._metrics.ops.labels(brand, op.kind, "retry").inc()
            log.warning("freshdesk op %s (%s) will be retried: %s", op.id, op.kind, decision.error)

    async def _warn(self, uow: UnitOfWork, brand: str, decision: Decision, now: datetime) -> bool | None:
        """Once per outage: a connector health event and a Slack warning to the brand
        (and once when it works again). Returns the health warned, None if nothing."""
        if isinstance(decision, Paused) and brand not in self._warned:
            event = health_changed(
                brand,
                healthy=False,
                problem="auth" if decision.reason == "auth" else "group",
                detail=decision.error,
                retry_at=decision.until,
                now=now,
            )
        elif isinstance(decision, Done) and brand in self._warned:
            event = health_changed(brand, healthy=True, problem=None, detail="", retry_at=None, now=now)
        else:
            return None
        uow.emit(event)
        if self._config is not None:
            brand_cfg = self._config.brand(brand)
            text = health_text(
                event, brand_name=brand_cfg.name, base_url=self._accounts[brand].settings.base_url
            )
            block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
            notification = Notification(
                "slack", channel_for(brand_cfg.slack_channels, "warnings"), {"text": text, "blocks": [block]}
            )
            await DeliveryStore(uow).enqueue(event, notification, now=now)
        return event.healthy

    def _pause(self, brand: str, decision: Paused) -> None:
        if brand not in self.paused:
            self._metrics.pauses.labels(brand, decision.reason).inc()
            what = (
                "the API key is refused" if decision.reason == "auth" else "the group is refused (deleted?)"
            )
            log.error(
                "FRESHDESK CONNECTOR PAUSED for brand %s until %s: %s (%s). socialdesk keeps working; "
                "fix the configuration (freshdesk.brands.%s) and the backlog is sent then.",
                brand,
                decision.until.isoformat(),
                what,
                decision.error,
                brand,
            )
        self._paused[brand] = decision.until
        self._proven.discard(brand)
        self._metrics.connected.labels(brand).set(0)

    def resumed(self, brand: str) -> None:
        self._paused.pop(brand, None)
        self._metrics.connected.labels(brand).set(1)
