"""The desk in a browser (issue 9): sign in with the agent token, the live queue, the ticket
page with every action, the manager's cockpit. Server-rendered from the same stores and
views as the API; the pages' script calls the API with the agent's token for actions.

Who is signed in lives in one place: the ``desk_token`` cookie (``SameSite=Strict``, scoped
to ``/desk``) that the server sets at sign-in (``POST /desk``) and clears at sign-out
(``POST /desk/signout``). The server renders each page for that cookie's agent, and the
script reads the same cookie for the API's ``Authorization`` header, refusing to act when
it changed since the page was rendered (another tab signed in or out), so the agent shown
is the agent who acts. The API itself only accepts the header, so a cross-site form cannot
act on an agent's behalf.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Literal
from urllib.parse import parse_qs, quote, unquote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from socialdesk_assigner.api.common import Desk, plain
from socialdesk_assigner.api.reports import summary_csv
from socialdesk_assigner.api.views import ticket_page, ticket_summary
from socialdesk_assigner.domain import DomainError, check_may_act, may_see
from socialdesk_assigner.domain.approvals import check_may_review
from socialdesk_assigner.domain.permissions import rank
from socialdesk_assigner.domain.replies import saved_replies_for
from socialdesk_assigner.domain.views import queue_scope
from socialdesk_assigner.store import DeskStore, TicketStore
from socialdesk_assigner.store.reports import By, ReportStore
from socialdesk_assigner.web.assets import CSS
from socialdesk_assigner.web.render import (
    Viewer,
    cockpit_html,
    error_html,
    queue_html,
    queue_rows,
    signin_html,
    ticket_html,
)
from socialdesk_assigner.web.script import JS
from socialdesk_runtime.config import Agent
from socialdesk_runtime.db import UnitOfWork

__all__ = ["desk_pages"]

_NO_STORE = {"Cache-Control": "no-store"}
_COOKIE = "desk_token"
_SIGNIN_BODY_MAX = 8192


def desk_pages(desk: Desk) -> APIRouter:
    router = APIRouter(prefix="/desk", include_in_schema=False)
    config = desk.config

    def signed_in(request: Request) -> Agent | None:
        token = unquote(request.cookies.get(_COOKIE, ""))
        return desk.agent_for_token(token) if token else None

    def to_signin(request: Request) -> Response:
        after = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/desk?next={quote(after, safe='')}", status_code=303)

    async def presence_of(uow: UnitOfWork, agent: Agent) -> str:
        return (await desk.roster.statuses(uow, desk.clock.now())).get(agent.id, "offline")

    async def failed(agent: Agent | None, status: int, title: str, message: str) -> HTMLResponse:
        presence = None
        if agent is not None:
            async with desk.uow_factory() as uow:
                presence = await presence_of(uow, agent)
        return HTMLResponse(
            error_html(agent, title, message, presence=presence), status_code=status, headers=_NO_STORE
        )

    @router.get("")
    async def signin(request: Request, next: str = "", signed_out: int = 0, lost: int = 0) -> HTMLResponse:
        agent = signed_in(request)
        note = "You are signed out." if signed_out else ""
        if lost and agent is None:
            note = "You are no longer signed in (signed out here or in another tab). Sign in again."
        presence = None
        if agent is not None:
            async with desk.uow_factory() as uow:
                presence = await presence_of(uow, agent)
        return HTMLResponse(
            signin_html(note, agent=agent, after=_safe_next(next), presence=presence), headers=_NO_STORE
        )

    @router.post("")
    async def signin_post(request: Request) -> Response:
        if request.headers.get("sec-fetch-site") == "cross-site":  # no signing in from another site
            return HTMLResponse(signin_html("Sign in from the desk's own page."), status_code=403)
        raw = (await request.body())[:_SIGNIN_BODY_MAX]
        form = parse_qs(raw.decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0].strip()
        after = _safe_next((form.get("next") or [""])[0])
        agent = desk.agent_for_token(token) if token else None
        if agent is None:
            problem = (
                "Enter your agent token."
                if not token
                else "That token is not a desk agent's token. Check it with your lead and try again."
            )
            return HTMLResponse(
                signin_html(problem, after=after), status_code=401 if token else 422, headers=_NO_STORE
            )
        response = RedirectResponse(after or "/desk/queue", status_code=303)
        response.set_cookie(
            _COOKIE,
            quote(token, safe=""),
            path="/desk",
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/signout")
    async def signout(request: Request) -> Response:
        response = RedirectResponse("/desk?signed_out=1", status_code=303)
        response.delete_cookie(_COOKIE, path="/desk", samesite="strict")
        return response

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
            # the live refresh asks for rows: tell it the session is gone, never a sign-in page
            if fragment:
                return Response("signed out", status_code=401, headers=_NO_STORE)
            return to_signin(request)
        filters = {
            "status": status if status in ("open", "assigned", "pending") else None,
            "priority": priority or None,
            "platform": platform or None,
            "escalated": {"true": True, "false": False}.get(escalated),
            "owner": agent.id if owner == "me" else owner or None,
        }
        async with desk.uow_factory() as uow:
            rows = await DeskStore(uow).queue(queue_scope(agent), filters, limit=200)
            presence = None if fragment else await presence_of(uow, agent)
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
        return HTMLResponse(queue_html(agent, html, shown, presence=presence), headers=_NO_STORE)

    @router.get("/tickets/{ticket_id}")
    async def ticket(ticket_id: str, request: Request) -> Response:
        agent = signed_in(request)
        if agent is None:
            return to_signin(request)
        try:
            tid = uuid.UUID(ticket_id)
        except ValueError:
            return await failed(agent, 404, "No such ticket", f"{ticket_id!r} is not a ticket id.")
        async with desk.uow_factory() as uow:
            found = await TicketStore(uow).ticket(tid)
            visible = found is not None and may_see(agent, found)
            page = plain(await ticket_page(desk, uow, found)) if found is not None and visible else {}
            statuses = await desk.roster.statuses(uow, desk.clock.now())
        presence = statuses.get(agent.id, "offline")
        if found is None:
            return await failed(agent, 404, "No such ticket", "There is no ticket with this id.")
        if not visible:
            return await failed(
                agent, 403, "Not your brand", "This ticket belongs to a brand you do not work for."
            )
        try:
            check_may_act(agent, found)
            may_act, refusal = True, ""
        except DomainError as exc:
            may_act, refusal = False, exc.reason
        reviewable = set()
        for item in page["conversation"]:
            if item.get("delivery") == "pending_approval":
                try:
                    check_may_review(
                        config.desk.approvals,
                        agent,
                        author_id=item["agent_id"],
                        ticket=found,
                        status="pending_approval",
                    )
                    reviewable.add(str(item["reply_id"]))
                except DomainError:
                    pass
        saved = [
            {"key": v.key, "title": v.title, "text": v.text}
            for v in saved_replies_for(
                config, brand=found.brand, language=found.language, platform=found.platform
            )
        ]
        colleagues = [a for a in config.agents if a.level == "TMT" or found.brand in a.brands]
        viewer = Viewer(
            agent=agent,
            may_act=may_act,
            refusal=refusal,
            presence=presence,
            reviewable=reviewable,
            statuses=statuses,
            max_chars=config.desk.max_text_chars,
        )
        return HTMLResponse(ticket_html(viewer, page, saved, colleagues), headers=_NO_STORE)

    @router.get("/cockpit")
    async def cockpit(request: Request) -> Response:
        agent = signed_in(request)
        if agent is None:
            return to_signin(request)
        if rank(agent.level) < rank("L3"):
            return await failed(agent, 403, "Cockpit", "The cockpit is for brand leads, managers and TMT.")
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
        return HTMLResponse(
            cockpit_html(agent, plain(data), people, len(held), presence=statuses.get(agent.id, "offline")),
            headers=_NO_STORE,
        )

    @router.get("/reports.csv")
    async def report_csv(request: Request, by: Literal["agent", "brand", "platform"] = "agent") -> Response:
        agent = signed_in(request)
        if agent is None:
            return to_signin(request)
        if rank(agent.level) < rank("L3"):
            return await failed(agent, 403, "Reports", "Reports are for brand leads, managers and TMT.")
        end = desk.clock.now()
        brands = None if agent.level == "TMT" else agent.brands
        kind: By = by
        async with desk.uow_factory() as uow:
            rows = await ReportStore(uow).summary(
                by=kind, since=end - timedelta(days=7), until=end, brands=brands
            )
        return summary_csv(kind, rows)

    @router.get("/{rest:path}")
    async def unknown(rest: str, request: Request) -> Response:
        """Any other desk address: a page with the header and a way back, not bare JSON."""
        return await failed(signed_in(request), 404, "Not found", f"The desk has no page /desk/{rest}.")

    return router


def _safe_next(after: str) -> str:
    """Where to go after signing in: only a page of the desk itself (never another site)."""
    return after if after.startswith("/desk/") and "//" not in after and "\\" not in after else ""
