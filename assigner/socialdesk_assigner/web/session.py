"""Who is signed in on a desk page (the ``desk_session`` cookie: ``api.cookie``) and the answers
every page route shares: to sign in, the error page with the header and a way back, the
session cookie set and cleared, and the headers every desk answer carries."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from socialdesk_assigner.api.common import Desk
from socialdesk_assigner.api.cookie import (
    COOKIE,
    LEGACY_COOKIE,
    OTHER_AGENT,
    OTHER_AGENT_DETAIL,
    claimed_agent,
    from_the_desk,
    in_use,
    opened,
    other_agent,
    secure,
    session_secret,
)
from socialdesk_assigner.sessions import SessionsUnavailable
from socialdesk_assigner.transient import RETRY_AFTER
from socialdesk_assigner.web.html import error_html
from socialdesk_runtime.config import Agent
from socialdesk_runtime.db import UnitOfWork

__all__ = [
    "COOKIE",
    "CSP",
    "NO_STORE",
    "Pages",
    "clear_session",
    "desk_route",
    "keep_session",
    "safe_next",
]

NO_STORE = {"Cache-Control": "no-store"}
#: What a desk page may load: its own script and style only (no inline script or style, so
#: text that slipped into the page unescaped still runs nothing), the inline favicon.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

_UNAVAILABLE = (
    "The desk's database did not answer: try again in a moment (reload the page). Nothing was changed."
)


def keep_session(response: Response, secret: str, *, secure: bool) -> None:
    """The browser keeps the session's secret where no script can read it, sends it to the
    desk's own pages and API only (``/desk``), never from another site's page, and over
    https only when the desk is reached over https (``api.cookie.secure``)."""
    response.set_cookie(COOKIE, secret, path="/desk", httponly=True, samesite="lax", secure=secure)


def clear_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/desk", httponly=True, samesite="lax", secure=secure)


def _sets_session(response: Response) -> bool:
    return any(v.startswith(f"{COOKIE}=") for v in response.headers.getlist("set-cookie"))


def desk_route(public_url: str | None) -> type[APIRoute]:
    """The route class of the desk's pages (``public_url``: ``desk.public_url``)."""

    class DeskRoute(APIRoute):
        """Every desk page answer (pages, fragments, assets, errors) with the page policy; a
        session cookie the desk refused is cleared in the answer to a page opened (unless it
        sets a new one; never in a poll's), and a pre-0304 cookie that held the agent's token
        is deleted wherever seen."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def with_policy(request: Request) -> Response:
                try:
                    response = await handler(request)
                except SessionsUnavailable:  # not known to have ended: the cookie stays
                    response = HTMLResponse(
                        error_html(None, "Try again in a moment", _UNAVAILABLE),
                        status_code=503,
                        headers={**NO_STORE, **RETRY_AFTER},
                    )
                response.headers.setdefault("Content-Security-Policy", CSP)
                response.headers.setdefault("X-Content-Type-Options", "nosniff")
                response.headers.setdefault("Referrer-Policy", "same-origin")
                if getattr(request.state, "session_refused", False) and not _sets_session(response):
                    clear_session(response, secure=secure(request, public_url))
                if LEGACY_COOKIE in request.cookies:
                    response.delete_cookie(LEGACY_COOKIE, path="/desk", samesite="lax")
                return response

            return with_policy

    return DeskRoute


class Pages:
    """What the page routes share, for one desk."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def from_the_desk(self, request: Request) -> bool:
        return from_the_desk(request, self.desk.sessions.public_url)

    def secure(self, request: Request) -> bool:
        return secure(request, self.desk.sessions.public_url)

    async def signed_in(self, request: Request, *, poll: bool = False) -> Agent | None:
        """The agent of the request's session, ``None`` without one or once it ended. A
        ``poll`` (the page's own question in the background: the queue's refresh, the
        ticket page's watch) is no use of the session: it never keeps one from ending idle."""
        secret = session_secret(request)
        if not secret:
            return None
        agent = await self.desk.sessions.agent_for(
            secret, use=not poll and in_use(request), claimed=claimed_agent(request)
        )
        # the dead cookie is cleared by a page the agent opens only: a poll's late answer
        # could otherwise delete the cookie of a sign-in made since in another tab
        request.state.session_refused = agent is None and not poll and opened(request)
        return agent

    def another_tab(self, request: Request, agent: Agent, *, json: bool = False) -> Response | None:
        """The answer to a page's own request (its live refresh) when it was rendered for
        another agent than the session's now: 409, which the page's script tells apart."""
        if not other_agent(request, agent):
            return None
        self.desk.sessions.refused("other_agent")
        headers = {**NO_STORE, **OTHER_AGENT}
        if json:
            return JSONResponse({"detail": OTHER_AGENT_DETAIL}, status_code=409, headers=headers)
        return Response(OTHER_AGENT_DETAIL, status_code=409, headers=headers)

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
