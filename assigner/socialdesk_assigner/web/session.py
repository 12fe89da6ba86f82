"""Who is signed in on a desk page (the ``desk_token`` cookie) and the answers every page
route shares: to sign in, the error page with the header and a way back, the check that a
form post came from the desk's own page, and the headers every desk answer carries."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from socialdesk_assigner.api.common import Desk
from socialdesk_assigner.web.html import error_html
from socialdesk_runtime.config import Agent
from socialdesk_runtime.db import UnitOfWork

__all__ = ["COOKIE", "CSP", "NO_STORE", "DeskRoute", "Pages", "from_the_desk", "safe_next"]

NO_STORE = {"Cache-Control": "no-store"}
COOKIE = "desk_token"
#: What a desk page may load: its own script and style only (no inline script or style, so
#: text that slipped into the page unescaped still runs nothing), the inline favicon.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
_SAME = ("same-origin", "none")  # the desk's own page, or the agent typing the address


def from_the_desk(request: Request) -> bool:
    """Whether a form post (sign in, sign out) came from the desk's own pages: a browser
    says where a request comes from in ``Sec-Fetch-Site``; an older one without it still
    sends ``Origin`` on a cross-site post, which must then be the desk's own. A client
    that sends neither (curl, the tests' HTTP client) is no other site's page."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in _SAME
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


class DeskRoute(APIRoute):
    """Every desk answer (pages, fragments, assets, errors) with the page policy."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_policy(request: Request) -> Response:
            response = await handler(request)
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            return response

        return with_policy


class Pages:
    """What the page routes share, for one desk."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def signed_in(self, request: Request) -> Agent | None:
        token = unquote(request.cookies.get(COOKIE, ""))
        return self.desk.agent_for_token(token) if token else None

    @staticmethod
    def to_signin(request: Request) -> Response:
        after = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/desk?next={quote(after, safe='')}", status_code=303)

    async def presence_of(self, uow: UnitOfWork, agent: Agent) -> str:
        return (await self.desk.roster.statuses(uow, self.desk.clock.now())).get(agent.id, "offline")

    async def failed(self, agent: Agent | None, status: int, title: str, message: str) -> HTMLResponse:
        presence = None
        if agent is not None:
            async with self.desk.uow_factory() as uow:
                presence = await self.presence_of(uow, agent)
        return HTMLResponse(
            error_html(agent, title, message, presence=presence), status_code=status, headers=NO_STORE
        )


def safe_next(after: str) -> str:
    """Where to go after signing in: only a page of the desk itself (never another site)."""
    return after if after.startswith("/desk/") and "//" not in after and "\\" not in after else ""
