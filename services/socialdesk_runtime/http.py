"""The HTTP side every service has: ``/healthz``, ``/readyz``, ``/metrics``, and guards.

Bad input gets a clear answer: a body over the limit is 413 before it is read whole,
an invalid body is 400 with the reason (FastAPI's 422 is mapped to 400), and a client
over its request rate is 429 with ``Retry-After`` (the probes and ``/metrics`` are not
limited: the orchestrator and Prometheus must always get through).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import limits
import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimitMiddleware", "FrontDoor", "RateLimitMiddleware", "ReadinessCheck", "create_app"]

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[None]]


class _TooLarge(Exception):
    pass


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"\x00" in query or b"%00" in query


class BodyLimitMiddleware:
    """Answer 413 for a request body over ``max_bytes``, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            # PostgreSQL text cannot hold NUL: refused here, once, rather than a 500 per route.
            await _json(
                send, 400, {"error": "bad_request", "detail": "NUL characters are not allowed in the URL"}
            )
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _json(send, 400, {"error": "bad_request", "detail": "invalid Content-Length"})
                    return
                if declared > self.max_bytes:
                    await _json(send, 413, _too_large(self.max_bytes))
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _json(send, 413, _too_large(self.max_bytes))


_UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RateLimitMiddleware:
    """Answer 429 with ``Retry-After`` to a client address over ``rate`` (e.g. ``"50/second"``).

    A fixed window per client address, in memory (per process: with N replicas the
    cluster-wide limit is N times this). Behind a proxy every client shares its address,
    so set the limit for the proxy, or terminate at a proxy that limits per client.
    """

    def __init__(self, app: ASGIApp, *, rate: str) -> None:
        self.app = app
        self.item = limits.parse(rate)
        self.limiter = FixedWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in _UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        who = client[0] if client else "unknown"
        if await self.limiter.hit(self.item, who):
            await self.app(scope, receive, send)
            return
        stats = await self.limiter.get_window_stats(self.item, who)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        await _json(
            send,
            429,
            {"error": "rate_limited", "detail": f"over {self.item} per client; retry after {retry_after}s"},
            headers=[(b"retry-after", str(retry_after).encode())],
        )


class FrontDoor:
    """``POST`` paths served ahead of the guards and the router: hot endpoints (signed
    webhooks) written as raw ASGI apps that enforce their own size limit and answer their
    own errors. They skip the per-address rate limit (a platform sends from a few
    addresses; its signature, not its address, is what admits it) and FastAPI's
    per-request machinery. Every other request goes on to the app unchanged."""

    def __init__(self, app: ASGIApp, *, routes: Mapping[str, ASGIApp]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            route = self.routes.get(scope["path"])
            if route is not None:
                await route(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _too_large(limit: int) -> dict[str, Any]:
    return {"error": "payload_too_large", "detail": f"request body exceeds {limit} bytes"}


async def _json(
    send: Send, status: int, body: dict[str, Any], *, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def create_app(
    service: str,
    *,
    registry: CollectorRegistry,
    readiness: Sequence[tuple[str, ReadinessCheck]] = (),
    routers: Sequence[APIRouter] = (),
    max_body_bytes: int = 1024 * 1024,
    rate_limit: str | None = None,
    front: Mapping[str, ASGIApp] | None = None,
) -> FastAPI:
    """A FastAPI app with the health, readiness and metrics endpoints and the guards
    (body size; with ``rate_limit`` such as ``"100/second"``, requests per client).
    ``front`` maps ``POST`` paths to raw ASGI apps served before the guards
    (:class:`FrontDoor`); the routers should still document those paths."""
    app = FastAPI(title=f"socialdesk {service}", docs_url="/docs", redoc_url=None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"), "reason": err.get("msg")}
            for err in exc.errors()
        ]
        return JSONResponse(status_code=400, content={"error": "invalid_body", "detail": problems})

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        ok = True
        for name, check in readiness:
            try:
                await asyncio.wait_for(check(), timeout=2.0)
                results[name] = "ok"
            except Exception as exc:
                ok = False
                results[name] = f"unavailable: {type(exc).__name__}: {exc}"[:300]
        return JSONResponse(status_code=200 if ok else 503, content={"ready": ok, "checks": results})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    if rate_limit:
        app.add_middleware(RateLimitMiddleware, rate=rate_limit)  # outermost: refuse before reading
    if front:
        app.add_middleware(FrontDoor, routes=front)  # before the guards: the hot paths guard themselves
    return app
