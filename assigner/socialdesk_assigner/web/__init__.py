"""The desk in a browser (issue 9): sign in with the agent token, the live queue, the ticket
page with every action, the manager's cockpit. Server-rendered from the same stores and
views as the API; the pages' script calls the API (under ``/desk/v1``) for actions.

Who is signed in is a session the desk keeps (decision 0304): signing in (``POST /desk``,
the agent's token in a form, the only time the token reaches the desk from a browser)
stores the hash of a random secret in the assigner's database, and the browser keeps the
secret in the ``desk_session`` cookie: ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (sent
when a link elsewhere, a Slack alert, opens a desk page; never with another site's post,
frame or fetch), scoped to ``/desk``. Signing out (``POST /desk/signout``) ends the session on the desk, so a
copy of the cookie is refused afterwards, on every replica; "sign out everywhere" ends all
of the agent's sessions. A session also ends after ``desk.sessions.idle_seconds`` unused and
``lifetime_seconds`` after sign-in. The server renders each page for the session's agent
(``#whoami``'s ``data-agent``); the script sends that id with every API call and live
refresh (``X-Desk-Session-Agent``), and the desk refuses with 409 once the session is
another agent's (another tab signed in), so the agent shown is the agent who acts; 401
says the session ended. A change made with the cookie needs that header and the
same-origin check (``api.cookie``), so a cross-site form cannot act on an agent's behalf;
the two form posts (sign in, sign out) are refused unless they come from the desk's own
page (``from_the_desk``). Every desk answer carries a ``Content-Security-Policy`` that
runs only the desk's own script file.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from socialdesk_assigner.api.common import Desk, plain
from socialdesk_assigner.api.cookie import session_secret
from socialdesk_assigner.api.reports import summary_csv
from socialdesk_assigner.api.views import ticket_summary
from socialdesk_assigner.domain.permissions import rank
from socialdesk_assigner.domain.views import queue_scope
from socialdesk_assigner.store import DeskStore, TicketStore
from socialdesk_assigner.store.lookup import DeskLookup
from socialdesk_assigner.store.reports import By, ReportStore
from socialdesk_assigner.web.assets import CSS
from socialdesk_assigner.web.cockpit import cockpit_html
from socialdesk_assigner.web.render import queue_html, queue_rows, signin_html
from socialdesk_assigner.web.script import JS
from socialdesk_assigner.web.session import (
    NO_STORE,
    Pages,
    clear_session,
    desk_route,
    keep_session,
    safe_next,
)
from socialdesk_assigner.web.tickets import ticket_routes

__all__ = ["desk_pages"]

_SIGNIN_BODY_MAX = 8192


def desk_pages(desk: Desk) -> APIRouter:
    config = desk.config
    router = APIRouter(
        prefix="/desk", include_in_schema=False, route_class=desk_route(config.desk.public_url)
    )
    pages = Pages(desk)
    signed_in, to_signin, presence_of, failed = (
        pages.signed_in,
        pages.to_signin,
        pages.presence_of,
        pages.failed,
    )

    @router.get("")
    async def signin(request: Request, next: str = "", signed_out: str = "", lost: int = 0) -> HTMLResponse:
        agent = await signed_in(request)
        note = ""
        if signed_out and agent is None:
            note = {
                "everywhere": "You are signed out, in this browser and in every other one.",
                "ended": "Your sign-in in this browser had already ended, so nothing was signed out "
                "anywhere else. Sign in, then use Sign out everywhere to end your other sign-ins.",
            }.get(signed_out, "You are signed out.")
        if lost and agent is None:
            note = "You are no longer signed in (signed out here or in another tab). Sign in again."
        presence = None
        if agent is not None:
            async with desk.uow_factory() as uow:
                presence = await presence_of(uow, agent)
        return HTMLResponse(
            signin_html(note, agent=agent, after=safe_next(next), presence=presence), headers=NO_STORE
        )

    @router.post("")
    async def signin_post(request: Request) -> Response:
        if not pages.from_the_desk(request):  # no signing in from another site (or another port)
            return HTMLResponse(
                signin_html("Sign in from the desk's own page."), status_code=403, headers=NO_STORE
            )
        raw = (await request.body())[:_SIGNIN_BODY_MAX]
        form = parse_qs(raw.decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0].strip()
        after = safe_next((form.get("next") or [""])[0])
        agent = desk.agent_for_token(token) if token else None
        if agent is None:
            desk.metrics.desk_sessions.labels("sign_in_refused").inc()
            problem = (
                "Enter your agent token."
                if not token
                else "That token is not a desk agent's token. Check it with your lead and try again."
            )
            return HTMLResponse(
                signin_html(problem, after=after), status_code=401 if token else 422, headers=NO_STORE
            )
        # a new secret at every sign-in (never one the browser brought), this browser's
        # previous session ended
        secret = await desk.sessions.open(agent, replacing=session_secret(request))
        response = RedirectResponse(after or "/desk/queue", status_code=303)
        keep_session(response, secret, secure=pages.secure(request))
        return response

    @router.post("/signout")
    async def signout(request: Request) -> Response:
        if not pages.from_the_desk(request):  # another site's page may not sign the agent out
            return await failed(
                await signed_in(request), 403, "Sign out", "Sign out from the desk's own page."
            )
        raw = (await request.body())[:_SIGNIN_BODY_MAX]
        everywhere = (parse_qs(raw.decode("utf-8", "replace")).get("everywhere") or [""])[0] == "1"
        said = "1"
        if everywhere:
            # only a valid session says whose sessions to end: from an ended one, nothing is
            # claimed; the page asks to sign in first
            ended = await desk.sessions.close_everywhere(session_secret(request))
            said = "ended" if ended is None else "everywhere"
        else:
            await desk.sessions.close(session_secret(request))
        response = RedirectResponse(f"/desk?signed_out={said}", status_code=303)
        clear_session(response, secure=pages.secure(request))
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
        group: str = "",
        brand: str = "",
        fragment: int = 0,
    ) -> Response:
        agent = await signed_in(request, poll=bool(fragment))  # the live refresh is no use
        if agent is None:
            # the live refresh asks for rows: tell it the session is gone, never a sign-in page
            if fragment:
                return Response("signed out", status_code=401, headers=NO_STORE)
            return to_signin(request)
        if fragment and (elsewhere := pages.another_tab(request, agent)) is not None:
            return elsewhere
        filters = {
            "status": status if status in ("open", "assigned", "pending") else None,
            "priority": priority or None,
            "platform": platform or None,
            "escalated": {"true": True, "false": False}.get(escalated),
            "owner": agent.id if owner == "me" else owner or None,
            "group_id": group or None,  # an incident group (the cockpit's hot topics link here)
            "brand": brand or None,
        }
        async with desk.uow_factory() as uow:
            rows = await DeskStore(uow).queue_page(queue_scope(agent), filters, limit=200)
            presence = None if fragment else await presence_of(uow, agent)
        tickets = [ticket_summary(t, extra) for t, extra in rows]
        names = {a.id: a.name for a in config.agents}
        html = queue_rows(tickets, names)
        if fragment:
            return HTMLResponse(html, headers=NO_STORE)
        shown = {
            "status": status,
            "priority": priority,
            "platform": platform,
            "escalated": escalated,
            "owner": owner,
            "group": group,
            "brand": brand,
        }
        return HTMLResponse(queue_html(agent, html, shown, presence=presence), headers=NO_STORE)

    ticket_routes(router, pages)

    @router.get("/cockpit")
    async def cockpit(request: Request) -> Response:
        agent = await signed_in(request)
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
            held = await DeskStore(uow).held_with_reason(brands)
            held_total = await DeskLookup(uow).held_count(brands)
            groups = await DeskStore(uow).busy_groups(brands)
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
        names = {a.id: a.name for a in config.agents}
        return HTMLResponse(
            cockpit_html(
                agent,
                plain(data),
                people,
                held=held,
                held_total=held_total,
                groups=groups,
                names=names,
                now=now,
                presence=statuses.get(agent.id, "offline"),
            ),
            headers=NO_STORE,
        )

    @router.get("/reports.csv")
    async def report_csv(request: Request, by: Literal["agent", "brand", "platform"] = "agent") -> Response:
        agent = await signed_in(request)
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
        return await failed(await signed_in(request), 404, "Not found", f"The desk has no page /desk/{rest}.")

    return router
