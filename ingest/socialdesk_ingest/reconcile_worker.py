"""The reconciliation poller: every ``platforms.reconcile_seconds`` each brand's Messenger
and Instagram conversations are read through the Graph API, and customer messages that
never arrived by webhook (within ``platforms.reconcile_lookback_seconds``) are stored as a
``meta_poll`` delivery for the extraction worker: deduplicated against what did arrive."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta

import httpx

from socialdesk_ingest.domain.platforms.health import Channel
from socialdesk_ingest.domain.platforms.items import as_dict, as_list, str_id
from socialdesk_ingest.domain.platforms.reconcile import POLL_SOURCE, conversations_as_delivery
from socialdesk_ingest.handlers import store_deliveries
from socialdesk_ingest.metrics import IngestMetrics
from socialdesk_ingest.store import IngestStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.workers import PeriodicWorker

__all__ = ["ReconcileWorker"]

log = logging.getLogger(__name__)

_FIELDS = "messages.limit(25){id,message,from,created_time}"


class ReconcileWorker(PeriodicWorker):
    name = "reconciliation"
    pause_first = True

    def __init__(
        self,
        *,
        channels: list[Channel],
        secret: Callable[[str], str | None],
        graph_base_url: str | None,
        graph_version: str,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        metrics: IngestMetrics,
        interval_seconds: float,
        lookback_seconds: float,
        on_stored: Callable[[], None],
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._channels = [c for c in channels if c.platform in ("facebook", "instagram")]
        self._secret = secret
        self._graph = (graph_base_url or "https://graph.facebook.com").rstrip("/") + "/" + graph_version
        self._uow_factory = uow_factory
        self._clock = clock
        self._metrics = metrics
        super().__init__(interval_seconds)
        self._lookback = lookback_seconds
        self._on_stored = on_stored
        self._client = client or httpx.AsyncClient(timeout=10.0)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def run_once(self) -> int:
        """Poll every channel once; how many missed messages were stored for extraction."""
        found = 0
        for channel in self._channels:
            found += await self._poll(channel)
        return found

    async def _poll(self, channel: Channel) -> int:
        platform = "messenger" if channel.platform == "facebook" else "instagram"
        token = self._secret(channel.token_env) if channel.token_env else None
        if token is None:
            return 0
        try:
            response = await self._client.get(
                f"{self._graph}/{channel.account_id}/conversations",
                params={"platform": platform, "fields": _FIELDS},
                headers={"Authorization": f"Bearer {token}"},
            )
            answer = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("polling %s %s failed: %s", channel.brand, platform, exc)
            answer = None
        if answer is None:
            self._metrics.reconcile_polls.labels(platform=platform, outcome="failed").inc()
            return 0
        since = self._clock.now() - timedelta(seconds=self._lookback)
        body = conversations_as_delivery(
            answer, platform=platform, account_id=channel.account_id, since=since
        )
        missed = await self._missed(body, channel.brand, platform)
        if not missed:
            self._metrics.reconcile_polls.labels(platform=platform, outcome="complete").inc()
            return 0
        assert body is not None
        entry = body["entry"][0]
        entry["messaging"] = [m for m in entry["messaging"] if m["message"]["mid"] in missed]
        await store_deliveries(
            [(POLL_SOURCE, json.dumps(body).encode())], uow_factory=self._uow_factory, clock=self._clock
        )
        self._on_stored()
        self._metrics.reconcile_polls.labels(platform=platform, outcome="backfilled").inc()
        self._metrics.reconcile_backfilled.labels(platform=platform).inc(len(missed))
        log.warning(
            "%d %s message(s) of %s never arrived by webhook: backfilled",
            len(missed),
            platform,
            channel.brand,
        )
        return len(missed)

    async def _missed(self, body: dict[str, object] | None, brand: str, platform: str) -> set[str]:
        if body is None:
            return set()
        mids = {
            mid
            for e in as_list(body.get("entry"))
            for m in as_list(as_dict(e).get("messaging"))
            if (mid := str_id(as_dict(as_dict(m).get("message")).get("mid")))
        }
        async with self._uow_factory() as uow:
            stored = await IngestStore(uow).stored_messages({(brand, platform, mid) for mid in mids})
        return mids - {key[2] for key in stored}
