"""The Freshdesk concern's parts, for the notifier's bootstrap (wiring only).

Usage (in ``bootstrap``)::

    freshdesk = freshdesk_parts(runtime, settings)
    ServiceParts(handlers=combine(slack_table, freshdesk.handlers), routers=[freshdesk.router],
                 workers=[..., freshdesk.worker], on_shutdown=[..., freshdesk.close])
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
from fastapi import APIRouter

from socialdesk_notifier.freshdesk.api import freshdesk_router
from socialdesk_notifier.freshdesk.client import FreshdeskAccount
from socialdesk_notifier.freshdesk.handlers import FreshdeskHandlers
from socialdesk_notifier.freshdesk.metrics import FreshdeskMetrics
from socialdesk_notifier.freshdesk.worker import FreshdeskWorker
from socialdesk_notifier.settings import NotifierSettings
from socialdesk_runtime.consumer import HandlerTable
from socialdesk_runtime.service import Runtime
from socialdesk_schemas import Event
from socialdesk_schemas.outbound import (
    HelpdeskConnectorHealthChanged,
    HelpdeskNoteReceived,
    HelpdeskReplyReceived,
    HelpdeskTicketReopened,
    HelpdeskTicketResolved,
)

__all__ = ["FRESHDESK_EMITS", "FreshdeskParts", "freshdesk_parts"]

log = logging.getLogger(__name__)

FRESHDESK_EMITS: tuple[type[Event], ...] = (
    HelpdeskReplyReceived,
    HelpdeskTicketResolved,
    HelpdeskNoteReceived,
    HelpdeskTicketReopened,
    HelpdeskConnectorHealthChanged,
)


@dataclass(frozen=True)
class FreshdeskParts:
    handlers: HandlerTable
    router: APIRouter
    worker: FreshdeskWorker
    close: Callable[[], Awaitable[None]]


def freshdesk_parts(runtime: Runtime, settings: NotifierSettings) -> FreshdeskParts:
    config = runtime.config
    metrics = FreshdeskMetrics.create(runtime.metrics.registry)
    http = httpx.AsyncClient(timeout=settings.platform_timeout_seconds)
    accounts: dict[str, FreshdeskAccount] = {}
    for brand, account in config.freshdesk.brands.items():
        if not account.enabled:
            continue
        if not config.secret(account.api_key_env):
            log.warning(
                "freshdesk %s: no API key in %s; its tickets wait until one is set",
                brand,
                account.api_key_env,
            )
        log.info("freshdesk %s: tickets go to %s, group %s", brand, account.base_url, account.group_id)
        accounts[brand] = FreshdeskAccount(
            brand, account, api_key=functools.partial(config.secret, account.api_key_env), http=http
        )
    worker = FreshdeskWorker(
        uow_factory=runtime.uow_factory,
        accounts=accounts,
        clock=runtime.clock,
        metrics=metrics,
        lease_seconds=settings.delivery_lease_seconds,
        max_age=timedelta(hours=settings.give_up_after_hours),
        poll_seconds=settings.poll_seconds,
        batch=settings.delivery_batch,
        config=config,
    )
    if accounts:
        runtime.uow_factory.on_commit(worker.notify)
    return FreshdeskParts(
        handlers=FreshdeskHandlers(config=config, clock=runtime.clock).table(),
        router=freshdesk_router(
            config=config, uow_factory=runtime.uow_factory, clock=runtime.clock, metrics=metrics
        ),
        worker=worker,
        close=http.aclose,
    )
