"""A Slack Socket Mode websocket endpoint for tests (issue 11): what ``apps.connections.open``
points a client at.

It greets each connection with ``hello`` as Slack does, pushes the envelopes a test asks
for (``interactive`` block actions) and records the acknowledgements (``{"envelope_id"}``)
the client sends back. An aiohttp server on its own thread and loop, so sync and async
tests can use it alike::

    with FakeSocketMode() as socket, FakeSlack(app_token="xapp-test", socket_url=...) as slack:
        socket.wait_connected()
        envelope = socket.send_interactive(block_actions_payload)
        socket.wait_acked(envelope)
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from types import TracebackType
from typing import Any, Self

from aiohttp import WSMsgType, web

__all__ = ["FakeSocketMode"]


class FakeSocketMode:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fake-socket-mode")
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._lock = threading.Lock()
        self.acks: list[str] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket=fake"

    def start(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/link/", self._connection)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _connection(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0FAKEAPP"}}
        )
        with self._lock:
            self._sockets.append(ws)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                data = json.loads(message.data)
                if isinstance(data, dict) and "envelope_id" in data:
                    with self._lock:
                        self.acks.append(str(data["envelope_id"]))
        with self._lock:
            self._sockets.remove(ws)
        return ws

    def wait_connected(self, timeout: float = 10.0) -> None:
        self._wait(lambda: bool(self._sockets), timeout, "a socket mode connection")

    def send_interactive(self, payload: dict[str, Any]) -> str:
        """Push one ``interactive`` envelope to the newest connection; returns its envelope id."""
        envelope_id = str(uuid.uuid4())
        with self._lock:
            ws = self._sockets[-1]
        body = {
            "envelope_id": envelope_id,
            "type": "interactive",
            "payload": payload,
            "accepts_response_payload": False,
        }
        asyncio.run_coroutine_threadsafe(ws.send_json(body), self._loop).result(timeout=5)
        return envelope_id

    def wait_acked(self, envelope_id: str, timeout: float = 10.0) -> None:
        self._wait(lambda: envelope_id in self.acks, timeout, f"ack of {envelope_id}")

    @staticmethod
    def _wait(check: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.02)
        raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
