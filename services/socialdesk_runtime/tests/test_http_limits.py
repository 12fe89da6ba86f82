"""Every public endpoint is size- and rate-limited; the probes and /metrics never are."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send

from socialdesk_runtime.http import create_app
from socialdesk_runtime.settings import ServiceSettings

router = APIRouter()


@router.post("/v1/things")
async def take(body: dict[str, str]) -> dict[str, int]:
    return {"got": len(body)}


def _client(**kwargs: object) -> httpx.AsyncClient:
    app = create_app("ingest", registry=CollectorRegistry(), routers=[router], **kwargs)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_a_client_over_its_rate_gets_429_with_retry_after_and_probes_still_pass() -> None:
    async with _client(rate_limit="3/minute") as client:
        answers = [(await client.post("/v1/things", json={"a": "b"})).status_code for _ in range(3)]
        assert answers == [200, 200, 200]
        refused = await client.post("/v1/things", json={"a": "b"})
        assert refused.status_code == 429
        assert refused.json()["error"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        for path in ("/healthz", "/metrics"):
            assert (await client.get(path)).status_code == 200, path


async def test_a_body_over_the_limit_is_413_before_any_handler() -> None:
    async with _client(max_body_bytes=100, rate_limit="100/second") as client:
        too_big = await client.post("/v1/things", json={"a": "x" * 500})
        assert too_big.status_code == 413
        assert (await client.post("/v1/things", json={"a": "b"})).status_code == 200


@pytest.mark.parametrize("url", ["/v1/things?q=a%00b", "/v1/things?q=%00", "/v1/thi%00ngs"])
async def test_a_nul_in_the_url_is_400_with_a_reason_before_any_handler(url: str) -> None:
    async with _client() as client:
        refused = await client.post(url, json={"a": "b"})
        assert refused.status_code == 400
        assert "NUL" in refused.json()["detail"]
        assert (await client.post("/v1/things?q=ok", json={"a": "b"})).status_code == 200


async def _hook(scope: Scope, receive: Receive, send: Send) -> None:
    """A raw route that reads its body and answers its size (it enforces its own limit)."""
    size = 0
    more = True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    payload = str(size).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(payload))]}
    )
    await send({"type": "http.response.body", "body": payload})


async def test_front_routes_are_served_before_the_guards_and_nothing_else_is() -> None:
    async with _client(max_body_bytes=100, rate_limit="2/minute", front={"/v1/hook": _hook}) as client:
        # The front route is neither size- nor rate-limited by the app: it guards itself.
        for _ in range(4):
            answer = await client.post("/v1/hook", content=b"x" * 500)
            assert (answer.status_code, answer.text) == (200, "500")
        # Everything else still goes through the guards: other paths, other methods.
        assert (await client.post("/v1/things", json={"a": "x" * 500})).status_code == 413
        assert (await client.post("/v1/things", json={"a": "b"})).status_code == 200
        assert (await client.post("/v1/things", json={"a": "b"})).status_code == 429
        assert (await client.get("/v1/hook")).status_code == 429


def _settings(**over: object) -> ServiceSettings:
    values: dict[str, object] = {
        "KAFKA_BOOTSTRAP_SERVERS": "k:9092",
        "SOCIALDESK_CONFIG": "c.yaml",
        "database_url": "postgresql+asyncpg://x/y",
        "http_port": 1,
        **over,
    }
    return ServiceSettings.model_validate(values)


def test_the_rate_setting_is_checked_at_start() -> None:
    assert _settings(http_rate_limit="50/second").http_rate_limit == "50/second"
    assert _settings().http_rate_limit, "on by default"
    assert _settings(http_rate_limit="").http_rate_limit == "", "and can be turned off"
    with pytest.raises(ValidationError, match="not a rate like"):
        _settings(http_rate_limit="lots")
