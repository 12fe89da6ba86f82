"""The X reconciliation poller: every ``platforms.reconcile_seconds`` each brand's X DMs
(``GET /2/dm_events``) and mentions (``GET /2/users/:id/mentions``) are read with the
account's user-context token (``accounts.x.bearer_token_env``), and customer items that
never arrived by webhook (within ``platforms.reconcile_lookback_seconds``) are stored as
an ``x_poll`` delivery for the extraction worker: deduplicated against what did arrive
(by DM event id and tweet id, the same in both APIs), so nothing is ticketed twice.

A 429 is obeyed: that read waits until ``x-rate-limit-reset`` before it is tried again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx

from socialdesk_ingest.domain.platforms.health import Channel
from socialdesk_ingest.domain.platforms.items import as_dict, as_list, str_id
from socialdesk_ingest.domain.platforms.reconcile_x import (
    DM_EVENT_FIELDS,
    TWEET_FIELDS,
    USER_FIELDS,
    X_POLL_SOURCE,
    dm_events_as_delivery,
    mentions_as_delivery,
    reaches_back_to,
)
from socialdesk_ingest.handlers import store_deliveries
from socialdesk_ingest.metrics import IngestMetrics
from socialdesk_ingest.store import IngestStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.workers import PeriodicWorker

__all__ = ["XReconcileWorker"]

log = logging.getLogger(__name__)

DEFAULT_X_URL = "https://api.x.com"
#: Pages read per poll and kind (100 items each): a lookback's worth on a busy account.
MAX_PAGES = 5

Read = Literal["dm", "mention"]


class XReconcileWorker(PeriodicWorker):
    name = "X reconciliation"
    pause_first = True

    def __init__(
        self,
        *,
        channels: list[Channel],
        secret: Callable[[str], str | None],
        x_base_url: str | None,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        metrics: IngestMetrics,
        interval_seconds: float,
        lookback_seconds: float,
        on_stored: Callable[[], None],
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._channels = [c for c in channels if c.platform == "x"]
        self._secret = secret
        self._x = (x_base_url or DEFAULT_X_URL).rstrip("/")
        self._uow_factory = uow_factory
        self._clock = clock
        self._metrics = metrics
        super().__init__(interval_seconds)
        self._lookback = lookback_seconds
        self._on_stored = on_stored
        self._client = client or httpx.AsyncClient(timeout=10.0)
        #: (brand, read) → epoch seconds before which X said not to call again (429).
        self._resume_at: dict[tuple[str, Read], float] = {}

    async def aclose(self) -> None:
        await self._client.aclose()

    async def run_once(self) -> int:
        """Poll every X account once; how many missed DMs and mentions were stored."""
        found = 0
        for channel in self._channels:
            token = self._secret(channel.token_env) if channel.token_env else None
            if token is None:
                continue
            for read in ("dm", "mention"):
                found += await self._poll(channel, read, token)
        return found

    async def _poll(self, channel: Channel, read: Read, token: str) -> int:
        now = self._clock.now()
        if now.timestamp() < self._resume_at.get((channel.brand, read), 0.0):
            self._metrics.reconcile_polls.labels(platform="x", outcome="rate_limited").inc()
            return 0
        since = now - timedelta(seconds=self._lookback)
        pages = await self._pages(channel, read, token, since)
        if pages is None:
            self._metrics.reconcile_polls.labels(platform="x", outcome="failed").inc()
            return 0
        convert = dm_events_as_delivery if read == "dm" else mentions_as_delivery
        body = convert(pages, account_id=channel.account_id, since=since)
        missed = await self._missed(body, channel.brand)
        if body is None or not missed:
            self._metrics.reconcile_polls.labels(platform="x", outcome="complete").inc()
            return 0
        key = "direct_message_events" if read == "dm" else "tweet_create_events"
        body[key] = [e for e in body[key] if _item_id(e) in missed]
        await store_deliveries(
            [(X_POLL_SOURCE, json.dumps(body).encode())], uow_factory=self._uow_factory, clock=self._clock
        )
        self._on_stored()
        self._metrics.reconcile_polls.labels(platform="x", outcome="backfilled").inc()
        self._metrics.reconcile_backfilled.labels(platform="x").inc(len(missed))
        log.warning("%d X %s(s) of %s never arrived by webhook: backfilled", len(missed), read, channel.brand)
        return len(missed)

    async def _pages(self, channel: Channel, read: Read, token: str, since: datetime) -> list[Any] | None:
        """The pages of one read back to ``since``; ``None`` if X did not answer."""
        if read == "dm":
            url = f"{self._x}/2/dm_events"
            params = {
                "event_types": "MessageCreate",
                "dm_event.fields": DM_EVENT_FIELDS,
                "expansions": "sender_id",
                "user.fields": USER_FIELDS,
                "max_results": "100",
            }
        else:
            url = f"{self._x}/2/users/{channel.account_id}/mentions"
            params = {
                "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tweet.fields": TWEET_FIELDS,
                "expansions": "author_id",
                "user.fields": USER_FIELDS,
                "max_results": "100",
            }
        pages: list[Any] = []
        for _ in range(MAX_PAGES):
            try:
                response = await self._client.get(
                    url, params=params, headers={"Authorization": f"Bearer {token}"}
                )
                answer = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("polling X %ss of %s failed: %s", read, channel.brand, exc)
                return None
            if response.status_code == 429:
                reset = response.headers.get("x-rate-limit-reset", "")
                wait_until = float(reset) if reset.isdigit() else self._clock.now().timestamp() + 60
                self._resume_at[(channel.brand, read)] = wait_until
                log.warning("X rate-limits %s reads of %s until %s", read, channel.brand, reset or "+60 s")
                return None
            if response.status_code != 200:
                log.warning(
                    "polling X %ss of %s: HTTP %d %s", read, channel.brand, response.status_code, answer
                )
                return None
            pages.append(answer)
            token_next = str_id(as_dict(as_dict(answer).get("meta")).get("next_token"))
            if token_next is None or (read == "dm" and reaches_back_to(answer, since)):
                break
            params["pagination_token"] = token_next
        return pages

    async def _missed(self, body: dict[str, Any] | None, brand: str) -> set[str]:
        if body is None:
            return set()
        ids = {
            i
            for e in as_list(body.get("direct_message_events")) + as_list(body.get("tweet_create_events"))
            if (i := _item_id(as_dict(e)))
        }
        async with self._uow_factory() as uow:
            stored = await IngestStore(uow).stored_messages({(brand, "x", i) for i in ids})
        return ids - {key[2] for key in stored}


def _item_id(event: dict[str, Any]) -> str | None:
    return str_id(event.get("id_str")) or str_id(event.get("id"))
