"""Hot POST routes as raw ASGI apps, still documented in the OpenAPI schema.

``raw_post(router, path, app)`` puts a plain Starlette route in front (matched first:
no FastAPI request objects or dependency solving per request) and, after it, a FastAPI
route with the same path that documents the body and, if ever reached (the raw route not
in front), runs the same ASGI app and returns what it answered.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["raw_post"]


class _Asgi:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def raw_post(
    router: APIRouter,
    path: str,
    app: ASGIApp,
    *,
    summary: str,
    status_code: int = 200,
    body_schema: dict[str, Any] | None = None,
) -> None:
    # A callable object, not a function: Starlette (and FastAPI, re-creating included
    # routes from their endpoints) would wrap a function as a request handler.
    router.routes.append(Route(path, _Asgi(app), methods=["POST"]))

    async def documented(request: Request) -> Response:
        answer: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"], answer["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        await app(request.scope, request.receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in answer["headers"]}
        headers.pop("content-length", None)
        return Response(content=answer["body"], status_code=answer["status"], headers=headers)

    extra = (
        {"requestBody": {"required": True, "content": {"application/json": {"schema": body_schema}}}}
        if body_schema is not None
        else None
    )
    router.add_api_route(
        path, documented, methods=["POST"], status_code=status_code, summary=summary, openapi_extra=extra
    )
