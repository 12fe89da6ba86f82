"""Wiring ingest: one function from runtime dependencies to the service's parts."""

from __future__ import annotations

import functools
from pathlib import Path

from socialdesk_ingest.api import intake_router
from socialdesk_ingest.api_customers import customers_router
from socialdesk_ingest.api_webhooks import WebhookConfig, webhook_router
from socialdesk_ingest.batching import IntakeBatcher
from socialdesk_ingest.domain.platforms import AccountIndex, meta_secret_envs, secrets_reader, x_secret_envs
from socialdesk_ingest.domain.platforms.health import channels
from socialdesk_ingest.enrichment_worker import EnrichmentWorker, make_enricher
from socialdesk_ingest.extraction_worker import ExtractionWorker
from socialdesk_ingest.graph import GraphReader
from socialdesk_ingest.handlers import Linking, accept_offers, store_deliveries
from socialdesk_ingest.health_worker import ChannelHealthWorker
from socialdesk_ingest.metrics import IngestMetrics
from socialdesk_ingest.reconcile_worker import ReconcileWorker
from socialdesk_ingest.reconcile_x_worker import XReconcileWorker
from socialdesk_ingest.settings import IngestSettings
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.errors import is_transient
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_schemas import MessageReceived
from socialdesk_schemas.platforms import MESSAGES_TOPIC_EVENTS


async def bootstrap(runtime: Runtime) -> ServiceParts:
    settings = runtime.settings
    assert isinstance(settings, IngestSettings)
    config = runtime.config
    if not config.intake_api_keys():
        raise SystemExit(
            f"ingest: no API keys configured: set {config.intake.api_keys_env} (comma-separated)"
        )
    metrics = IngestMetrics.create(runtime.metrics.registry)
    batcher = IntakeBatcher(
        functools.partial(
            accept_offers,
            uow_factory=runtime.uow_factory,
            clock=runtime.clock,
            idle_seconds=settings.conversation_idle_seconds,
            linking=Linking.from_config(config),
        ),
        fails_whole=is_transient,
    )
    router = intake_router(
        batcher=batcher,
        api_keys=config.intake_api_keys,
        known_brands=frozenset(b.id for b in config.brands),
        metrics=metrics,
        max_body_bytes=config.intake.max_body_bytes,
    )
    reader = _graph_reader(config)
    accounts = AccountIndex.from_config(config)
    worker = ExtractionWorker(
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        accounts=accounts,
        metrics=metrics,
        idle_seconds=settings.conversation_idle_seconds,
        poll_seconds=settings.extraction_poll_seconds,
        batch_size=settings.extraction_batch_size,
        max_batch_size=settings.extraction_max_batch_size,
        retention_seconds=config.platforms.raw_retention_seconds,
        enricher=make_enricher(reader, metrics),
        quiet_seconds=settings.extraction_quiet_seconds,
        max_lag_seconds=settings.extraction_max_lag_seconds,
        linking=Linking.from_config(config),
    )
    enrichment = EnrichmentWorker(
        reader=reader,
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        metrics=metrics,
        accounts=accounts,
    )
    deliveries = IntakeBatcher(
        functools.partial(
            store_deliveries, uow_factory=runtime.uow_factory, clock=runtime.clock, on_commit=worker.notify
        ),
        # Raw rows cannot conflict: several batches at once hide the round trips.
        max_concurrent=4,
        fails_whole=is_transient,
    )
    worker.acknowledging = lambda: deliveries.busy
    platforms = config.platforms
    hooks, receivers = webhook_router(batcher=deliveries, config=_webhook_config(config), metrics=metrics)
    people = customers_router(
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        agent_tokens=functools.partial(_agent_tokens, config),
    )
    platforms_cfg = config.platforms
    health = ChannelHealthWorker(
        channels=channels(config),
        secret=config.secret,
        graph_base_url=str(platforms_cfg.graph_base_url) if platforms_cfg.graph_base_url else None,
        graph_version=platforms_cfg.graph_version,
        x_base_url=str(platforms_cfg.x_base_url) if platforms_cfg.x_base_url else None,
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        metrics=metrics,
        interval_seconds=platforms_cfg.health_check_seconds,
    )
    reconcile = ReconcileWorker(
        channels=channels(config),
        secret=config.secret,
        graph_base_url=str(platforms_cfg.graph_base_url) if platforms_cfg.graph_base_url else None,
        graph_version=platforms_cfg.graph_version,
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        metrics=metrics,
        interval_seconds=platforms_cfg.reconcile_seconds,
        lookback_seconds=platforms_cfg.reconcile_lookback_seconds,
        on_stored=worker.notify,
    )
    reconcile_x = XReconcileWorker(
        channels=channels(config),
        secret=config.secret,
        x_base_url=str(platforms_cfg.x_base_url) if platforms_cfg.x_base_url else None,
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        metrics=metrics,
        interval_seconds=platforms_cfg.reconcile_seconds,
        lookback_seconds=platforms_cfg.reconcile_lookback_seconds,
        on_stored=worker.notify,
    )
    return ServiceParts(
        emits=[MessageReceived, *MESSAGES_TOPIC_EVENTS],
        routers=[hooks, router, people],
        workers=[worker, enrichment, health, reconcile, reconcile_x],
        on_shutdown=[reader.aclose, health.aclose, reconcile.aclose, reconcile_x.aclose],
        # The routes enforce their own limits (intake's, Meta's 3 MiB); the app's guard
        # stops anything over the largest of them before it is read.
        max_body_bytes=max(
            config.intake.max_body_bytes, platforms.meta_max_body_bytes, platforms.x_max_body_bytes
        ),
        # The signed deliveries ahead of the runtime's guards: they check their own size,
        # and a platform's few sending addresses must not hit the per-address limit.
        front=receivers,
    )


def _agent_tokens(config: SocialdeskConfig) -> dict[str, str]:
    """Each desk agent's bearer token, read now (rotation needs no restart)."""
    out: dict[str, str] = {}
    for agent in config.agents:
        token = config.secret(agent.token_env) if agent.token_env else None
        if token:
            out[agent.id] = token
    return out


def _graph_reader(config: SocialdeskConfig) -> GraphReader:
    def token_for(brand_id: str, platform: str) -> str | None:
        accounts = config.brand(brand_id).accounts
        env = None
        if platform == "facebook" and accounts.facebook is not None:
            env = accounts.facebook.page_token_env
        elif platform == "instagram" and accounts.instagram is not None:
            env = accounts.instagram.access_token_env
        return config.secret(env) if env else None

    def ig_account_for(brand_id: str) -> str | None:
        instagram = config.brand(brand_id).accounts.instagram
        return instagram.account_id if instagram is not None else None

    base = config.platforms.graph_base_url
    return GraphReader(
        base_url=str(base) if base is not None else None,
        version=config.platforms.graph_version,
        token_for=token_for,
        ig_account_for=ig_account_for,
    )


def _webhook_config(config: SocialdeskConfig) -> WebhookConfig:
    platforms = config.platforms
    x_secrets = secrets_reader(config, x_secret_envs(config))

    def x_secret_for(account: str) -> str | None:
        for brand in config.brands:
            x = brand.accounts.x
            if x is not None and x.user_id == account and x.consumer_secret_env:
                return config.secret(x.consumer_secret_env)
        return None

    def verify_token() -> str | None:
        env = platforms.meta_verify_token_env
        return config.secret(env) if env else None

    return WebhookConfig(
        meta_secrets=secrets_reader(config, meta_secret_envs(config)),
        x_secrets=x_secrets,
        x_secret_for=x_secret_for,
        verify_token=verify_token,
        meta_max_bytes=platforms.meta_max_body_bytes,
        x_max_bytes=platforms.x_max_body_bytes,
    )


SPEC = ServiceSpec(
    name="ingest",
    settings_cls=IngestSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
