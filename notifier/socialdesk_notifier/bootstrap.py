"""Wiring the notifier: Slack when a token is configured, the labelled local sink otherwise."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from socialdesk_notifier.enqueue import on_reply_requested, on_slack_event
from socialdesk_notifier.metrics import NotifierMetrics
from socialdesk_notifier.senders import LocalSink, Sender, SlackSender
from socialdesk_notifier.settings import NotifierSettings
from socialdesk_notifier.worker import DeliveryWorker
from socialdesk_runtime.service import Runtime, ServiceParts, ServiceSpec
from socialdesk_schemas import (
    TOPICS,
    ReplyRequested,
    SlaWarning,
    SpikeDetected,
    TicketEscalated,
    TrendDetected,
)

log = logging.getLogger(__name__)


async def bootstrap(runtime: Runtime) -> ServiceParts:
    settings = runtime.settings
    assert isinstance(settings, NotifierSettings)
    config = runtime.config
    metrics = NotifierMetrics.create(runtime.metrics.registry)
    senders: dict[str, Sender] = {}
    token = config.secret(config.slack.token_env)
    if token:
        base_url = settings.slack_base_url or (str(config.slack.base_url) if config.slack.base_url else None)
        senders["slack"] = SlackSender(token=token, base_url=base_url)
        log.info("Slack deliveries go to %s", base_url or "slack.com")
    else:
        senders["slack"] = LocalSink(settings.local_sink_path, channel="local")
        log.warning(
            "no Slack token in %s: Slack messages go to the LOCAL SINK %s",
            config.slack.token_env,
            settings.local_sink_path,
        )
    # Platform send APIs are not wired yet: customer replies go to the labelled local sink.
    fallback = LocalSink(settings.local_sink_path, channel="local")
    worker = DeliveryWorker(
        uow_factory=runtime.uow_factory,
        senders=senders,
        fallback=fallback,
        clock=runtime.clock,
        metrics=metrics,
        lease_seconds=settings.delivery_lease_seconds,
        max_attempts=settings.max_attempts,
        poll_seconds=settings.poll_seconds,
    )
    runtime.uow_factory.on_commit(worker.notify)
    deps = {"clock": runtime.clock}
    return ServiceParts(
        handlers={
            ReplyRequested: functools.partial(on_reply_requested, **deps),
            **dict.fromkeys(
                (TicketEscalated, SlaWarning, SpikeDetected, TrendDetected),
                functools.partial(on_slack_event, config=config, **deps),
            ),
        },
        topics=[TOPICS.sla, TOPICS.replies, TOPICS.trends],
        workers=[worker],
    )


SPEC = ServiceSpec(
    name="notifier",
    settings_cls=NotifierSettings,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
