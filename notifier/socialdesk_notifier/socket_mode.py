"""Slack Socket Mode (issue 11 item 4): the same button handling for deployments with no
public URL. slack-sdk's aiohttp ``SocketModeClient`` opens the websocket with the app-level
token (``xapp-...``, env var named by ``slack.app_token_env``); each ``interactive``
envelope is acknowledged at once, then handled exactly like a click at
``POST /v1/slack/interactions`` (one effect per action ts, an ephemeral answer through the
click's ``response_url``).

Usage::

    worker = SocketModeWorker(app_token=token, web_client=AsyncWebClient(base_url=...),
                              clicks=clicks, http=http)
    ServiceParts(workers=[..., worker])
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk_notifier.api import answer_ephemerally
from socialdesk_notifier.interactions import click_from_payload
from socialdesk_notifier.slack_clicks import ClickHandler

__all__ = ["SocketModeWorker"]

log = logging.getLogger(__name__)


class SocketModeWorker:
    def __init__(
        self,
        *,
        app_token: str,
        web_client: AsyncWebClient,
        clicks: ClickHandler,
        http: httpx.AsyncClient,
    ) -> None:
        self._app_token = app_token
        self._web_client = web_client
        self._clicks = clicks
        self._http = http
        self._stopping = asyncio.Event()
        self.handled = 0

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        client = SocketModeClient(
            app_token=self._app_token, web_client=self._web_client, auto_reconnect_enabled=True
        )
        client.socket_mode_request_listeners.append(self._on_request)
        try:
            while not self._stopping.is_set():
                try:
                    await client.connect()  # type: ignore[no-untyped-call]
                    break
                except Exception as exc:  # Slack unreachable at start: try again, never crash the service
                    log.warning("slack socket mode: cannot connect (%s); retrying in 5 s", exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), timeout=5)
            await self._stopping.wait()
        finally:
            await client.close()  # type: ignore[no-untyped-call]

    async def _on_request(self, client: Any, request: SocketModeRequest) -> None:
        # Acknowledge first: Slack re-sends an envelope not acknowledged within 3 s.
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        if request.type != "interactive":
            return
        click = click_from_payload(request.payload)
        if click is None:
            return
        try:
            text = await self._clicks.handle(click)
        except Exception:
            log.exception("slack socket mode: a click could not be handled")
            return
        self.handled += 1
        await answer_ephemerally(self._http, click, text)
