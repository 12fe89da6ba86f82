"""``/v1/webhooks/meta`` and ``/v1/webhooks/x``: verify, store durably, answer (thin).

A delivery is acknowledged only once its raw body is committed (decision 0201); the
extraction worker does the rest. Order per request: size (declared, then streamed) →
signature over the raw bytes, constant time, against every configured secret → JSON →
stored. Answers: 413, 401, 400, 200; 503 with ``Retry-After`` when it cannot be stored.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Literal

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from socialdesk_ingest.batching import IntakeBatcher, IntakeOverloaded
from socialdesk_ingest.domain.platforms import verify_meta, verify_x, x_crc_response
from socialdesk_ingest.metrics import IngestMetrics
from socialdesk_runtime.errors import is_transient

__all__ = [
    "RETRY_AFTER_SECONDS",
    "BodyTooLarge",
    "WebhookConfig",
    "read_limited",
    "unavailable",
    "webhook_router",
]

RETRY_AFTER_SECONDS = 5

Source = Literal["meta", "x"]


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
) -> APIRouter:
    router = APIRouter()
    requests = metrics.webhook_requests

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

    async def receive(
        request: Request, source: Source, header: str, verify: Callable[[bytes, str | None, list[str]], bool]
    ) -> Response:
        started = time.perf_counter()
        limit = config.meta_max_bytes if source == "meta" else config.x_max_bytes
        try:
            raw = await read_limited(request, limit)
        except BodyTooLarge:
            requests.labels(platform=source, outcome="too_large").inc()
            return JSONResponse(
                status_code=413,
                content={"error": "payload_too_large", "detail": f"body exceeds {limit} bytes"},
            )
        if not verify(
            raw,
            request.headers.get(header),
            config.meta_secrets() if source == "meta" else config.x_secrets(),
        ):
            requests.labels(platform=source, outcome="unauthorized").inc()
            return JSONResponse(
                status_code=401, content={"error": "unauthorized", "detail": f"missing or wrong {header}"}
            )
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            requests.labels(platform=source, outcome="invalid").inc()
            return JSONResponse(
                status_code=400, content={"error": "invalid_body", "detail": "body is not JSON"}
            )
        try:
            await batcher.submit((source, raw))
        except IntakeOverloaded as exc:
            requests.labels(platform=source, outcome="unavailable").inc()
            return unavailable(str(exc))
        except Exception as exc:
            if not is_transient(exc):
                raise
            requests.labels(platform=source, outcome="unavailable").inc()
            return unavailable("the delivery could not be stored; try again")
        requests.labels(platform=source, outcome="stored").inc()
        metrics.webhook_ack_seconds.labels(platform=source).observe(time.perf_counter() - started)
        return PlainTextResponse("EVENT_RECEIVED")

    @router.post("/v1/webhooks/meta")
    async def meta_delivery(request: Request) -> Response:
        return await receive(request, "meta", "x-hub-signature-256", verify_meta)

    @router.post("/v1/webhooks/x")
    async def x_delivery(request: Request) -> Response:
        return await receive(request, "x", "x-twitter-webhooks-signature", verify_x)

    return router
