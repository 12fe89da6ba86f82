"""Channel health: every ``platforms.health_check_seconds`` each configured account is
read with its token; a change of state (an expired token, a lost permission, a token
not set, and the recovery) is published once as ``ChannelHealthChanged`` (the notifier's
Slack warning) and shown on ``ingest_channel_healthy``."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx

from socialdesk_ingest.domain.platforms.health import (
    Channel,
    Verdict,
    channel_ticket,
    graph_verdict,
    x_verdict,
)
from socialdesk_ingest.metrics import IngestMetrics
from socialdesk_ingest.store.health import HealthStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.workers import PeriodicWorker
from socialdesk_schemas.platforms import ChannelHealthChanged

__all__ = ["ChannelHealthWorker"]

log = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_X_URL = "https://api.x.com"


class ChannelHealthWorker(PeriodicWorker):
    name = "channel health"

    def __init__(
        self,
        *,
        channels: list[Channel],
        secret: Callable[[str], str | None],
        graph_base_url: str | None,
        graph_version: str,
        x_base_url: str | None,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        metrics: IngestMetrics,
        interval_seconds: float,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._channels = channels
        self._secret = secret
        self._graph = (graph_base_url or DEFAULT_GRAPH_URL).rstrip("/") + "/" + graph_version
        self._x = (x_base_url or DEFAULT_X_URL).rstrip("/")
        self._uow_factory = uow_factory
        self._clock = clock
        self._metrics = metrics
        super().__init__(interval_seconds)
        self._client = client or httpx.AsyncClient(timeout=5.0)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def run_once(self) -> list[ChannelHealthChanged]:
        """Check every channel once; the changes published."""
        changes: list[ChannelHealthChanged] = []
        for channel in self._channels:
            verdict = await self._check(channel)
            self._metrics.channel_checks.labels(
                platform=channel.platform,
                outcome="inconclusive" if verdict.healthy is None else (verdict.problem or "ok"),
            ).inc()
            if verdict.healthy is None:
                continue
            self._metrics.channel_healthy.labels(brand=channel.brand, platform=channel.platform).set(
                1 if verdict.healthy else 0
            )
            change = await self._record(channel, verdict)
            if change is not None:
                changes.append(change)
        return changes

    async def _check(self, channel: Channel) -> Verdict:
        token = self._secret(channel.token_env) if channel.token_env else None
        if token is None:
            detail = f"set {channel.token_env}" if channel.token_env else "no token configured"
            return Verdict(False, "token_missing", None, detail)
        if channel.platform == "x":
            url, judge = f"{self._x}/2/users/me", x_verdict
        else:
            url, judge = f"{self._graph}/{channel.account_id}", graph_verdict
        try:
            response = await self._client.get(
                url,
                params={"fields": "id"} if channel.platform != "x" else None,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            return Verdict(None, detail=f"{type(exc).__name__}: {exc}"[:300])
        try:
            body = response.json()
        except ValueError:
            body = None
        return judge(response.status_code, body)

    async def _record(self, channel: Channel, verdict: Verdict) -> ChannelHealthChanged | None:
        assert verdict.healthy is not None
        now = self._clock.now()
        async with self._uow_factory() as uow:
            store = HealthStore(uow)
            last = await store.last(channel.brand, channel.platform, channel.account_id)
            state = (verdict.healthy, verdict.problem)
            # A channel seen healthy the first time is no news; anything else that differs is.
            changed = last != state and not (last is None and verdict.healthy)
            await store.record(
                channel.brand,
                channel.platform,
                channel.account_id,
                healthy=verdict.healthy,
                problem=verdict.problem,
                at=now,
                changed=changed,
            )
            event = None
            if changed:
                ticket = channel_ticket(channel)
                event = ChannelHealthChanged(
                    producer="ingest",
                    occurred_at=now,
                    ticket_id=ticket,
                    correlation_id=ticket,
                    brand=channel.brand,
                    platform=channel.platform,
                    account_id=channel.account_id,
                    healthy=verdict.healthy,
                    problem=verdict.problem,
                    error_code=verdict.error_code,
                    detail=verdict.detail,
                )
                uow.emit(event)
                log.warning(
                    "channel %s %s is %s",
                    channel.brand,
                    channel.platform,
                    "healthy again" if verdict.healthy else f"unhealthy: {verdict.problem}",
                )
            await uow.commit()
        return event
