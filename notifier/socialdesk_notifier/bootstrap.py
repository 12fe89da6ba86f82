"""Wiring the notifier: Slack when a token is configured, the labelled local sink otherwise."""

from __future__ import annotations

import logging
from pathlib import Path

from socialdesk_notifier.domain import DeliveryPolicy
from socialdesk_notifier.handlers import Handlers
from socialdesk_notifier.metrics import NotifierMetrics
from socialdesk_notifier.senders import Sender, Senders
from socialdesk_notifier.senders.local import LocalSink
from socialdesk_notifier.senders.slack import SlackSender
from socialdesk_notifier.settings import NotifierSettings
from socialdesk_notifier.worker import DeliveryWorker
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_schemas import NotificationDelivered, NotificationFailed

__all__ = ["SPEC", "bootstrap"]

log = logging.getLogger(__name__)


def _slack(settings: NotifierSettings, config: SocialdeskConfig, sink: LocalSink) -> Sender:
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
    return SlackSender(token=token, base_url=base_url)


async def bootstrap(runtime: Runtime) -> ServiceParts:
    settings = runtime.settings
    assert isinstance(settings, NotifierSettings)
    sink = LocalSink(settings.local_sink_path)
    # Platform send APIs are not wired yet: customer replies go to the labelled local sink.
    senders = Senders({"slack": _slack(settings, runtime.config, sink)}, fallback=sink)
    worker = DeliveryWorker(
        uow_factory=runtime.uow_factory,
        senders=senders,
        clock=runtime.clock,
        metrics=NotifierMetrics.create(runtime.metrics.registry),
        policy=DeliveryPolicy(
            lease_seconds=settings.delivery_lease_seconds, max_attempts=settings.max_attempts
        ),
        poll_seconds=settings.poll_seconds,
    )
    runtime.uow_factory.on_commit(worker.notify)
    return ServiceParts(
        handlers=Handlers(config=runtime.config, clock=runtime.clock).table(),
        emits=[NotificationDelivered, NotificationFailed],
        workers=[worker],
    )


SPEC = ServiceSpec(
    name="notifier",
    settings_cls=NotifierSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
