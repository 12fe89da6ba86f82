"""Who is signed in on a desk page (the ``desk_token`` cookie) and the answers every page
route shares: to sign in, and the error page with the header and a way back."""

from __future__ import annotations

from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from socialdesk_assigner.api.common import Desk
from socialdesk_assigner.web.html import error_html
from socialdesk_runtime.config import Agent
from socialdesk_runtime.db import UnitOfWork

__all__ = ["COOKIE", "NO_STORE", "Pages", "safe_next"]

NO_STORE = {"Cache-Control": "no-store"}
COOKIE = "desk_token"


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
