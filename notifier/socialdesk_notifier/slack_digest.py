"""A flood of alerts for one Slack channel becomes one digest post (issue 11 item 3).

Run by the delivery worker before each claim: for every channel with more than
``threshold`` alert posts (breach, escalation, warning) waiting from the last ``window``,
the waiting ones are folded (status ``digested``, settled, never posted alone) into one
digest delivery: "37 breaches in the last minute; the 5 oldest: ...". The rows are locked
with SKIP LOCKED, so replicas never fold one alert twice, and the fold and the digest are
one transaction.

Usage::

    digester = SlackDigester(uow_factory=..., config=..., clock=..., threshold=10)
    await digester.run_once()  # how many alerts were folded
"""

from __future__ import annotations

import logging
from datetime import timedelta

from socialdesk_notifier.domain.cards import cut
from socialdesk_notifier.domain.digest import PendingAlert, collapse
from socialdesk_notifier.slack_digest_store import DigestStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWorkFactory

__all__ = ["SlackDigester"]

log = logging.getLogger(__name__)


class SlackDigester:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        config: SocialdeskConfig,
        clock: Clock,
        threshold: int = 10,
        window: timedelta = timedelta(minutes=1),
        shown: int = 5,
    ) -> None:
        self._uow_factory = uow_factory
        self._config = config
        self._clock = clock
        self._threshold = threshold
        self._window = window
        self._shown = shown
        self._names = {b.id: b.name for b in config.brands}

    async def run_once(self) -> int:
        now = self._clock.now()
        since = now - self._window
        folded = 0
        async with self._uow_factory.quiet() as uow:
            store = DigestStore(uow)
            channels = await store.flooded_channels(since=since, threshold=self._threshold)
            if not channels:
                return 0
            for channel in channels:
                rows = await store.waiting_posts(channel, since=since)
                pending = [
                    PendingAlert(
                        key=str(r["id"]),
                        kind=str(r["payload"].get("kind", "alert")),
                        ticket_id=str(r["ticket_id"]),
                        brand_name=self._names.get(str(r["payload"].get("brand", "")), "?"),
                        created_at=r["created_at"],
                    )
                    for r in rows
                ]
                plan = collapse(
                    pending, now=now, threshold=self._threshold, shown=self._shown, window=self._window
                )
                if plan.digest_text is None:
                    continue
                ids = {a.key for a in plan.collapsed}
                first = next(r for r in rows if str(r["id"]) in ids)
                key = f"digest:{channel}:{first['id']}"
                text = f":rotating_light: {plan.digest_text}"
                await store.enqueue_digest(
                    key=key,
                    like=first,
                    channel=channel,
                    payload={
                        "text": cut(plan.digest_text.replace("*", ""), 2500),
                        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
                        "kind": "digest",
                        # Machine-readable in the post's metadata: which tickets it stands for.
                        "tickets": sorted({str(r["ticket_id"]) for r in rows if str(r["id"]) in ids}),
                    },
                    now=now,
                )
                await store.fold([r["id"] for r in rows if str(r["id"]) in ids], key)
                folded += len(ids)
                log.warning("slack: %d alerts for %s folded into one digest", len(ids), channel)
            await uow.commit()
        return folded
