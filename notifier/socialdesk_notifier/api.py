"""The notifier's HTTP routes: Slack's interactivity request URL (issue 11 item 4).

``POST /v1/slack/interactions`` takes Slack's ``application/x-www-form-urlencoded``
``payload``, verifies ``X-Slack-Signature`` with the signing secret (stale or forged:
401, nothing changes), acts on the click, answers 200 at once and tells the person who
clicked, ephemerally, through the click's ``response_url``.

Usage::

    router = slack_router(clicks=ClickHandler(...), signing_secret=secret, clock=clock, http=client)
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from fastapi import APIRouter, Request, Response

from socialdesk_notifier.interactions import Click, read_click
from socialdesk_notifier.slack_clicks import ClickHandler
from socialdesk_runtime.clock import Clock

__all__ = ["answer_ephemerally", "slack_router"]

log = logging.getLogger(__name__)


async def answer_ephemerally(http: httpx.AsyncClient, click: Click, text: str) -> None:
    """POST the answer to the click's ``response_url`` (only the clicker sees it)."""
    if not click.response_url:
        return
    try:
        response = await http.post(
            click.response_url,
            json={"response_type": "ephemeral", "replace_original": False, "text": text},
            timeout=5.0,
        )
        if response.status_code >= 400:
            log.warning("slack response_url refused our answer: HTTP %s", response.status_code)
    except httpx.HTTPError as exc:
        log.warning("slack response_url unreachable: %s", exc)


def slack_router(
    *, clicks: ClickHandler, signing_secret: str | None, clock: Clock, http: httpx.AsyncClient
) -> APIRouter:
    router = APIRouter(prefix="/v1/slack")
    pending: set[asyncio.Task[None]] = set()

    @router.post("/interactions", status_code=200)
    async def interactions(request: Request) -> Response:
        if not signing_secret:
            log.error("a Slack interaction arrived but no signing secret is configured: refused")
            return Response(status_code=503, content="interactivity is not configured")
        body = await request.body()
        click = read_click(body, request.headers, signing_secret=signing_secret, now=clock.now())
        if click is None:
            return Response(status_code=401, content="invalid signature")
        text = await clicks.handle(click)
        # Slack wants the 200 within 3 s: the ephemeral answer follows on its own.
        task = asyncio.create_task(answer_ephemerally(http, click, text))
        pending.add(task)
        task.add_done_callback(pending.discard)
        return Response(status_code=200)

    return router
