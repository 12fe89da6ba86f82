"""Raw POST routes: served in front of FastAPI, documented, and the same answer either way."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI
from starlette.types import Receive, Scope, Send

from socialdesk_ingest.raw_routes import raw_post


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    message = await receive()
    body = b"got " + message.get("body", b"")
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"text/plain"), (b"x-seen", b"raw")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def app(*, raw_in_front: bool) -> FastAPI:
    router = APIRouter()
    raw_post(router, "/hook", echo, summary="echo", status_code=201, body_schema={"type": "object"})
    if not raw_in_front:
        router.routes.pop(0)
    application = FastAPI()
    application.include_router(router)
    return application


async def test_the_raw_route_and_its_documented_fallback_answer_the_same() -> None:
    for raw_in_front in (True, False):
        transport = httpx.ASGITransport(app=app(raw_in_front=raw_in_front))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.post("/hook", content=b"{}")
            assert (r.status_code, r.text, r.headers["x-seen"]) == (201, "got {}", "raw")
            document = (await client.get("/openapi.json")).json()
            operation = document["paths"]["/hook"]["post"]
            assert operation["requestBody"]["content"]["application/json"]["schema"] == {"type": "object"}
