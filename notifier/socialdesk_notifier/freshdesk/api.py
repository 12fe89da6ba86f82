"""``POST /v1/freshdesk/webhook``: Freshdesk's Automation rules call it on agents' actions.

Freshdesk does not sign webhooks: the rule sends a shared secret in a custom header
(``freshdesk.brands.<id>.webhook_header``, default ``X-Socialdesk-Secret``), compared in
constant time with each enabled brand's secret; the one that matches names the brand.
No secret → 401. A ticket we do not know → 200, ignored, counted.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from socialdesk_notifier.freshdesk.domain.inbound import WebhookError, parse_webhook
from socialdesk_notifier.freshdesk.metrics import FreshdeskMetrics
from socialdesk_notifier.freshdesk.webhooks import receive
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWorkFactory

__all__ = ["freshdesk_router", "webhook_brand"]


def webhook_brand(config: SocialdeskConfig, headers: Mapping[str, str]) -> str | None:
    """The enabled brand whose secret the request carries, compared in constant time."""
    found: str | None = None
    for brand, account in config.freshdesk.brands.items():
        if not account.enabled:
            continue
        secret = config.secret(account.webhook_secret_env)
        given = headers.get(account.webhook_header.lower(), "")
        # Every brand is compared (no early exit): the time taken says nothing of which matched.
        if secret and hmac.compare_digest(given.encode(), secret.encode()) and found is None:
            found = brand
    return found


def freshdesk_router(
    *, config: SocialdeskConfig, uow_factory: UnitOfWorkFactory, clock: Clock, metrics: FreshdeskMetrics
) -> APIRouter:
    router = APIRouter(tags=["freshdesk"])

    @router.post("/v1/freshdesk/webhook")
    async def freshdesk_webhook(request: Request) -> JSONResponse:
        """An agent replied, noted or changed a status in Freshdesk (Automation rule)."""
        brand = webhook_brand(config, {k.lower(): v for k, v in request.headers.items()})
        if brand is None:
            metrics.webhooks.labels("unauthorized").inc()
            return JSONResponse({"error": "missing or wrong webhook secret"}, status_code=401)
        try:
            inbound = parse_webhook(await request.json())
        except (ValueError, WebhookError) as exc:
            metrics.webhooks.labels("invalid").inc()
            return JSONResponse({"error": str(exc)}, status_code=400)
        async with uow_factory() as uow:
            outcome, body = await receive(uow, config, clock, brand, inbound)
            await uow.commit()
        metrics.webhooks.labels(outcome).inc()
        return JSONResponse(body, status_code=200)

    return router
