"""Wiring the notifier: Slack and each platform's send API when its credentials are in the
environment, the labelled local sink otherwise (so `make run` works on a bare machine)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Final

import httpx
from fastapi import APIRouter
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk_notifier.api import slack_router
from socialdesk_notifier.domain import DeliveryPolicy
from socialdesk_notifier.freshdesk.wiring import FRESHDESK_EMITS, freshdesk_parts
from socialdesk_notifier.handlers import Handlers
from socialdesk_notifier.metrics import NotifierMetrics
from socialdesk_notifier.retention import RetentionWorker
from socialdesk_notifier.senders import Sender, Senders
from socialdesk_notifier.senders.local import LocalSink
from socialdesk_notifier.senders.pacing import Pace, Pacer
from socialdesk_notifier.senders.platforms import PlatformApis, PlatformSender
from socialdesk_notifier.senders.slack import SlackApi
from socialdesk_notifier.senders.slack_threads import SlackSender
from socialdesk_notifier.settings import NotifierSettings
from socialdesk_notifier.slack_clicks import ClickHandler
from socialdesk_notifier.slack_digest import SlackDigester
from socialdesk_notifier.slack_handlers import SlackHandlers
from socialdesk_notifier.socket_mode import SocketModeWorker
from socialdesk_notifier.worker import DeliveryWorker
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.consumer import combine
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_schemas import Channel, NotificationDelivered, NotificationFailed
from socialdesk_schemas.outbound import (
    DeliveryFailed,
    DeliverySucceeded,
    EscalationAcknowledged,
    OwnershipRequested,
    ReplyStatusChanged,
)

__all__ = ["SPEC", "bootstrap"]

log = logging.getLogger(__name__)

PLATFORMS: Final[tuple[Channel, ...]] = ("messenger", "facebook", "instagram", "whatsapp", "x")


def _slack(runtime: Runtime, settings: NotifierSettings, sink: LocalSink) -> Sender:
    config = runtime.config
    token = config.secret(config.slack.token_env)
    if not token:
        log.warning(
            "no Slack token in %s: Slack messages go to the LOCAL SINK %s",
            config.slack.token_env,
            settings.local_sink_path,
        )
        return sink
    base_url = settings.slack_base_url or (str(config.slack.base_url) if config.slack.base_url else None)
    log.info("Slack deliveries go to %s", base_url or "slack.com")
    return SlackSender(
        api=SlackApi(token=token, base_url=base_url),
        uow_factory=runtime.uow_factory,
        config=config,
        clock=runtime.clock,
        desk_url=settings.desk_base_url,
        interval=settings.slack_channel_interval_seconds,
        updates_per_minute=settings.slack_updates_per_minute,
        # Hold a leased delivery in the pacer for at most 40% of its lease: it still has more
        # than half of it left to send (DeliveryPolicy.may_send), and a short test lease
        # (3 s) still lets a delivery wait one channel turn (1.1 s) instead of missing it.
        max_wait=settings.delivery_lease_seconds * 0.4,
    )


def _digester(runtime: Runtime, settings: NotifierSettings) -> SlackDigester:
    return SlackDigester(
        uow_factory=runtime.uow_factory,
        config=runtime.config,
        clock=runtime.clock,
        threshold=settings.slack_digest_threshold,
        window=timedelta(seconds=settings.slack_digest_window_seconds),
    )


def _interactions(runtime: Runtime, http: httpx.AsyncClient) -> APIRouter:
    """Slack's interactivity request URL, verified with the signing secret from the environment."""
    env = runtime.config.slack.signing_secret_env
    secret = runtime.config.secret(env) if env else None
    if not secret:
        log.warning("no Slack signing secret in %s: button clicks are refused", env)
    clicks = ClickHandler(uow_factory=runtime.uow_factory, config=runtime.config, clock=runtime.clock)
    return slack_router(clicks=clicks, signing_secret=secret, clock=runtime.clock, http=http)


def _socket_mode(
    runtime: Runtime, settings: NotifierSettings, http: httpx.AsyncClient
) -> list[SocketModeWorker]:
    """Slack Socket Mode when an app-level token is configured: clicks without a public URL."""
    config = runtime.config
    env = config.slack.app_token_env
    app_token = config.secret(env) if env else None
    if not app_token:
        return []
    base_url = settings.slack_base_url or (str(config.slack.base_url) if config.slack.base_url else None)
    web_client = AsyncWebClient(
        token=config.secret(config.slack.token_env), base_url=base_url or AsyncWebClient.BASE_URL
    )
    clicks = ClickHandler(uow_factory=runtime.uow_factory, config=config, clock=runtime.clock)
    log.info("Slack Socket Mode on: button clicks also arrive over the websocket")
    return [SocketModeWorker(app_token=app_token, web_client=web_client, clicks=clicks, http=http)]


def _credentialed(config: SocialdeskConfig, platform: str) -> bool:
    """Some brand has a token for ``platform`` in this environment."""
    for brand in config.brands:
        accounts = brand.accounts
        env = {
            "messenger": accounts.facebook and accounts.facebook.page_token_env,
            "facebook": accounts.facebook and accounts.facebook.page_token_env,
            "instagram": accounts.instagram and accounts.instagram.access_token_env,
            "whatsapp": accounts.whatsapp and accounts.whatsapp.access_token_env,
            "x": accounts.x and accounts.x.bearer_token_env,
        }[platform]
        if env and config.secret(env):
            return True
    return False


def _platforms(
    runtime: Runtime, settings: NotifierSettings, metrics: NotifierMetrics, http: httpx.AsyncClient
) -> dict[str, Sender]:
    """A sender per platform with credentials; the others stay on the labelled local sink."""
    apis = PlatformApis(
        graph=settings.graph_base_url, x=settings.x_base_url, graph_version=settings.graph_version
    )
    # One lane per sending account, shared by every replica (the account's limit is the platform's).
    pacer = Pacer(
        runtime.uow_factory,
        Pace(
            ceiling=settings.platform_rate_per_second,
            recipient_interval=settings.recipient_interval_seconds,
            adaptive=True,
        ),
        kind="account",
    )
    senders: dict[str, Sender] = {}
    for platform in PLATFORMS:
        if not _credentialed(runtime.config, platform):
            log.warning(
                "no credentials for %s: its replies go to the LOCAL SINK %s",
                platform,
                settings.local_sink_path,
            )
            continue
        log.info("%s replies go to %s", platform, apis.x if platform == "x" else apis.graph)
        senders[platform] = PlatformSender(
            platform,
            config=runtime.config,
            clock=runtime.clock,
            http=http,
            apis=apis,
            pacer=pacer,
            uow_factory=runtime.uow_factory,
            metrics=metrics,
            echo_wait=timedelta(seconds=settings.echo_wait_seconds),
            # Never hold a leased delivery in the pacer for more than a quarter of its lease.
            max_pacing_wait=settings.delivery_lease_seconds / 4,
        )
    return senders


async def bootstrap(runtime: Runtime) -> ServiceParts:
    settings = runtime.settings
    assert isinstance(settings, NotifierSettings)
    sink = LocalSink(settings.local_sink_path)
    metrics = NotifierMetrics.create(runtime.metrics.registry)
    # httpx logs each request's URL at INFO, and an X DM's URL holds the customer's id:
    # personal data stays out of INFO logs (issue 11), so only its warnings are kept.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    http = httpx.AsyncClient(timeout=settings.platform_timeout_seconds)
    senders = Senders(
        {"slack": _slack(runtime, settings, sink), **_platforms(runtime, settings, metrics, http)},
        fallback=sink,
    )
    worker = DeliveryWorker(
        uow_factory=runtime.uow_factory,
        senders=senders,
        clock=runtime.clock,
        metrics=metrics,
        policy=DeliveryPolicy(
            lease_seconds=settings.delivery_lease_seconds,
            max_age=timedelta(hours=settings.give_up_after_hours),
            echo_wait=timedelta(seconds=settings.echo_wait_seconds),
        ),
        poll_seconds=settings.poll_seconds,
        batch=settings.delivery_batch,
        before_claim=[_digester(runtime, settings).run_once],
    )
    runtime.uow_factory.on_commit(worker.notify)
    freshdesk = freshdesk_parts(runtime, settings)
    return ServiceParts(
        handlers=combine(
            Handlers(config=runtime.config, clock=runtime.clock).table(),
            SlackHandlers(
                config=runtime.config, clock=runtime.clock, desk_url=settings.desk_base_url
            ).table(),
            freshdesk.handlers,
        ),
        emits=[
            NotificationDelivered,
            NotificationFailed,
            DeliverySucceeded,
            DeliveryFailed,
            ReplyStatusChanged,
            EscalationAcknowledged,
            OwnershipRequested,
            *FRESHDESK_EMITS,
        ],
        routers=[_interactions(runtime, http), freshdesk.router],
        workers=[
            worker,
            freshdesk.worker,
            *_socket_mode(runtime, settings, http),
            RetentionWorker(
                runtime.engine,
                runtime.clock,
                keep_seconds=settings.retention_seconds,
                interval_seconds=settings.retention_interval_seconds,
            ),
        ],
        on_shutdown=[http.aclose, freshdesk.close],
    )


SPEC = ServiceSpec(
    name="notifier",
    settings_cls=NotifierSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
