"""``/v1/webhooks/meta`` and ``/v1/webhooks/x``: the handshakes, and the delivery routes.

A delivery is acknowledged only once its raw body is committed (decision 0201); the
extraction worker does the rest. The deliveries are served by
:class:`~socialdesk_ingest.webhook_receiver.WebhookReceiver` (raw ASGI, the hot path);
the handshakes are ordinary FastAPI routes.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp

from socialdesk_ingest.batching import IntakeBatcher
from socialdesk_ingest.domain.platforms import verify_meta, verify_x, x_crc_response
from socialdesk_ingest.metrics import IngestMetrics
from socialdesk_ingest.raw_routes import raw_post
from socialdesk_ingest.webhook_receiver import RETRY_AFTER_SECONDS, Source, Verify, WebhookReceiver

__all__ = [
    "RETRY_AFTER_SECONDS",
    "BodyTooLarge",
    "WebhookConfig",
    "read_limited",
    "unavailable",
    "webhook_router",
]


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refused (:class:`BodyTooLarge`) as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def unavailable(detail: str) -> JSONResponse:
    """503 with ``Retry-After``: nothing was stored, the sender should try again."""
    return JSONResponse(
        status_code=503,
        content={"error": "unavailable", "detail": detail},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class WebhookConfig:
    """What the routes read per request (secrets rotate without a restart)."""

    def __init__(
        self,
        *,
        meta_secrets: Callable[[], list[str]],
        x_secrets: Callable[[], list[str]],
        x_secret_for: Callable[[str], str | None],
        verify_token: Callable[[], str | None],
        meta_max_bytes: int,
        x_max_bytes: int,
    ) -> None:
        self.meta_secrets = meta_secrets
        self.x_secrets = x_secrets
        self.x_secret_for = x_secret_for
        self.verify_token = verify_token
        self.meta_max_bytes = meta_max_bytes
        self.x_max_bytes = x_max_bytes


def webhook_router(
    *, batcher: IntakeBatcher[tuple[str, bytes], int], config: WebhookConfig, metrics: IngestMetrics
) -> tuple[APIRouter, dict[str, ASGIApp]]:
    """The routes, and the delivery receivers by path for the runtime to serve ahead of its
    guards (``ServiceParts.front``): the router keeps them too (documented, and served the
    same way by an app without a front door)."""
    router = APIRouter()
    front: dict[str, ASGIApp] = {}
    requests = metrics.webhook_requests
    # The deliveries are raw ASGI routes: no FastAPI machinery on the acknowledgement path.
    hot: tuple[tuple[Source, str, Verify, Callable[[], list[str]], int], ...] = (
        ("meta", "X-Hub-Signature-256", verify_meta, config.meta_secrets, config.meta_max_bytes),
        ("x", "x-twitter-webhooks-signature", verify_x, config.x_secrets, config.x_max_bytes),
    )
    for source, header, verify, secrets, limit in hot:
        receiver = WebhookReceiver(
            source,
            header=header,
            verify=verify,
            secrets=secrets,
            max_bytes=limit,
            batcher=batcher,
            metrics=metrics,
        )
        path = f"/v1/webhooks/{source}"
        raw_post(router, path, receiver, summary=f"A signed {source} webhook delivery")
        front[path] = receiver

    @router.get("/v1/webhooks/meta")
    async def meta_handshake(request: Request) -> Response:
        q = request.query_params
        expected = config.verify_token()
        offered = q.get("hub.verify_token", "")
        challenge = q.get("hub.challenge")
        if (
            q.get("hub.mode") == "subscribe"
            and expected
            and challenge is not None
            and hmac.compare_digest(offered.encode(), expected.encode())
        ):
            requests.labels(platform="meta", outcome="handshake").inc()
            return PlainTextResponse(challenge)
        requests.labels(platform="meta", outcome="handshake_refused").inc()
        return PlainTextResponse("forbidden", status_code=403)

    @router.get("/v1/webhooks/x")
    async def x_crc(request: Request) -> Response:
        token = request.query_params.get("crc_token")
        account = request.query_params.get("account")
        secrets = config.x_secrets()
        secret = config.x_secret_for(account) if account else (secrets[0] if secrets else None)
        if not token or secret is None:
            requests.labels(platform="x", outcome="handshake_refused").inc()
            detail = "crc_token missing" if not token else "no consumer secret configured for this account"
            return JSONResponse(status_code=400, content={"error": "bad_request", "detail": detail})
        requests.labels(platform="x", outcome="handshake").inc()
        return JSONResponse({"response_token": x_crc_response(token, secret)})

    return router, front
