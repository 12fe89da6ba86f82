"""The desk in a browser (issue 9): sign in with the agent token, the live queue, the ticket
page with every action, the manager's cockpit. Server-rendered from the same stores and
views as the API; the pages' script calls the API with the agent's token for actions.

The pages read the token from a ``SameSite=Strict`` cookie scoped to ``/desk`` (set at
sign-in); the API itself only accepts the ``Authorization`` header, so a cross-site form
cannot act on an agent's behalf.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from socialdesk_assigner.api.common import Desk, plain
from socialdesk_assigner.api.reports import summary_csv
from socialdesk_assigner.api.views import ticket_page, ticket_summary
from socialdesk_assigner.domain import may_see
from socialdesk_assigner.domain.permissions import rank
from socialdesk_assigner.domain.replies import saved_replies_for
from socialdesk_assigner.domain.views import queue_scope
from socialdesk_assigner.store import DeskStore, TicketStore
from socialdesk_assigner.store.reports import By, ReportStore
from socialdesk_assigner.web.assets import CSS, JS
from socialdesk_assigner.web.render import cockpit_html, queue_html, queue_rows, signin_html, ticket_html
from socialdesk_runtime.config import Agent

__all__ = ["desk_pages"]

_NO_STORE = {"Cache-Control": "no-store"}


def desk_pages(desk: Desk) -> APIRouter:
    router = APIRouter(prefix="/desk", include_in_schema=False)
    config = desk.config

    def signed_in(request: Request) -> Agent | None:
        token = request.cookies.get("desk_token", "")
        return desk.agent_for_token(token) if token else None

    def to_signin() -> Response:
        return RedirectResponse("/desk", status_code=303)

    @router.get("")
    async def signin() -> HTMLResponse:
        return HTMLResponse(signin_html(), headers=_NO_STORE)

    @router.get("/assets/desk.css")
    async def css() -> Response:
        return Response(CSS, media_type="text/css")

    @router.get("/assets/desk.js")
    async def js() -> Response:
        return Response(JS, media_type="text/javascript")

    @router.get("/queue")
    async def queue(
        request: Request,
        status: str = "",
        priority: str = "",
        platform: str = "",
        escalated: str = "",
        owner: str = "",
        fragment: int = 0,
    ) -> Response:
        agent = signed_in(request)
        if agent is None:
            return to_signin()
        filters = {
            "status": status if status in ("open", "assigned", "pending") else None,
            "priority": priority or None,
            "platform": platform or None,
            "escalated": {"true": True, "false": False}.get(escalated),
            "owner": agent.id if owner == "me" else owner or None,
        }
        async with desk.uow_factory() as uow:
            rows = await DeskStore(uow).queue(queue_scope(agent), filters, limit=200)
        tickets = [ticket_summary(t, extra) for t, extra in rows]
        names = {a.id: a.name for a in config.agents}
        html = queue_rows(tickets, names)
        if fragment:
            return HTMLResponse(html, headers=_NO_STORE)
        shown = {
            "status": status,
            "priority": priority,
            "platform": platform,
            "escalated": escalated,
            "owner": owner,
        }
        return HTMLResponse(queue_html(agent, html, shown), headers=_NO_STORE)

    @router.get("/tickets/{ticket_id}")
    async def ticket(ticket_id: uuid.UUID, request: Request) -> Response:
        agent = signed_in(request)
        if agent is None:
            return to_signin()
        async with desk.uow_factory() as uow:
            found = await TicketStore(uow).ticket(ticket_id)
            if found is None:
                return HTMLResponse("<h1>No such ticket</h1>", status_code=404)
            if not may_see(agent, found):
                return HTMLResponse(
                    "<h1>This ticket belongs to a brand you do not work for</h1>", status_code=403
                )
            page = plain(await ticket_page(desk, uow, found))
        saved = [
            {"key": v.key, "title": v.title, "text": v.text}
            for v in saved_replies_for(
                config, brand=found.brand, language=found.language, platform=found.platform
            )
        ]
        colleagues = [a for a in config.agents if a.level == "TMT" or found.brand in a.brands]
        return HTMLResponse(ticket_html(agent, page, saved, colleagues), headers=_NO_STORE)

    @router.get("/cockpit")
    async def cockpit(request: Request) -> Response:
        agent = signed_in(request)
        if agent is None:
            return to_signin()
        if rank(agent.level) < rank("L3"):
            return HTMLResponse("<h1>The cockpit is for brand leads, managers and TMT</h1>", status_code=403)
        now = desk.clock.now()
        brands = None if agent.level == "TMT" else agent.brands
        idle = config.desk.idle_reassign_seconds or 3600.0
        async with desk.uow_factory() as uow:
            data = await ReportStore(uow).cockpit(
                brands=brands, now=now, stalled_before=now - timedelta(seconds=idle)
            )
            statuses = await desk.roster.statuses(uow, now)
            load = await TicketStore(uow).open_load([a.id for a in config.agents])
            held = await DeskStore(uow).held_replies(brands)
        people = [
            {
                "name": a.name,
                "level": a.level,
                "status": statuses.get(a.id, "offline"),
                "open_tickets": load.get(a.id, 0),
                "capacity": a.max_open_tickets,
            }
            for a in config.agents
            if brands is None or set(a.brands) & set(brands)
        ]
        return HTMLResponse(cockpit_html(agent, plain(data), people, len(held)), headers=_NO_STORE)

    @router.get("/reports.csv")
    async def report_csv(request: Request, by: Literal["agent", "brand", "platform"] = "agent") -> Response:
        agent = signed_in(request)
        if agent is None:
            return to_signin()
        if rank(agent.level) < rank("L3"):
            return HTMLResponse("<h1>Reports are for brand leads, managers and TMT</h1>", status_code=403)
        end = desk.clock.now()
        brands = None if agent.level == "TMT" else agent.brands
        kind: By = by
        async with desk.uow_factory() as uow:
            rows = await ReportStore(uow).summary(
                by=kind, since=end - timedelta(days=7), until=end, brands=brands
            )
        return summary_csv(kind, rows)

    return router
