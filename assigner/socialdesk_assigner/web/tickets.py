"""The ticket page's routes: the page itself (also under a short id: the first 8 or more hex
digits the desk shows), and the small state the open page asks for every few seconds to
notice a new message, a new owner or any other change (``/desk/tickets/{id}/state``)."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from socialdesk_assigner.api.common import plain
from socialdesk_assigner.api.views import ticket_page
from socialdesk_assigner.domain import DomainError, Ticket, check_may_act, may_see
from socialdesk_assigner.domain.approvals import check_may_review
from socialdesk_assigner.domain.replies import saved_replies_for
from socialdesk_assigner.domain.views import queue_scope
from socialdesk_assigner.store import DeskStore, TicketStore
from socialdesk_assigner.store.lookup import DeskLookup
from socialdesk_assigner.web.session import NO_STORE, Pages
from socialdesk_assigner.web.ticket import Live, Viewer, ticket_html
from socialdesk_runtime.config import Agent

__all__ = ["ticket_routes"]

#: A short id: 8 or more of the id's hex digits, dashes where the id has them.
_SHORT = re.compile(r"[0-9a-f]{8}(?:-?[0-9a-f]{0,4}){0,6}", re.IGNORECASE)
#: How often an open ticket page asks whether the ticket changed.
POLL_SECONDS = 5


def version_of(activity: dict[str, Any]) -> str:
    """One short string that changes whenever anything the page shows may have changed."""
    return hashlib.sha256(orjson.dumps(plain(activity), option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def _may_act(agent: Agent, ticket: Ticket) -> tuple[bool, str]:
    try:
        check_may_act(agent, ticket)
    except DomainError as exc:
        return False, exc.reason
    return True, ""


def ticket_routes(router: APIRouter, pages: Pages) -> None:
    desk = pages.desk
    config = desk.config

    async def by_prefix(agent: Agent, given: str) -> Response:
        """A short id: its one ticket's page; none or several is the 404 page."""
        if _SHORT.fullmatch(given) is None:
            return await pages.failed(agent, 404, "No such ticket", f"{given!r} is not a ticket id.")
        async with desk.uow_factory() as uow:
            # only the brands the agent sees: nobody is sent to another brand's 403 page
            found = await DeskLookup(uow).ticket_ids_starting(given, brands=queue_scope(agent).brands)
        if len(found) == 1:
            return RedirectResponse(f"/desk/tickets/{found[0]}", status_code=303)
        why = (
            f"More than one ticket starts with {given}: give more of its id."
            if found
            else f"No ticket starts with {given}."
        )
        return await pages.failed(agent, 404, "No such ticket", why)

    @router.get("/go")
    async def go(request: Request, ticket: str = "") -> Response:
        """The header's "Go to ticket" box: a full or short id (a leading ``#`` is fine)."""
        given = ticket.strip().lstrip("#").strip()
        if not given:
            return RedirectResponse("/desk/queue", status_code=303)
        return RedirectResponse(f"/desk/tickets/{quote(given, safe='')}", status_code=303)

    @router.get("/tickets/{ticket_id}/state")
    async def state(ticket_id: str, request: Request) -> Response:
        """What the open page compares with what it shows (JSON; 401 once signed out, 409 once
        the session is another agent's than the page's); asking is no use of the session."""
        agent = await pages.signed_in(request, poll=True)
        if agent is None:
            return JSONResponse({"detail": "signed out"}, status_code=401, headers=NO_STORE)
        if (elsewhere := pages.another_tab(request, agent, json=True)) is not None:
            return elsewhere
        try:
            tid = uuid.UUID(ticket_id)
        except ValueError:
            return JSONResponse({"detail": "no such ticket"}, status_code=404, headers=NO_STORE)
        async with desk.uow_factory() as uow:
            found = await TicketStore(uow).ticket(tid)
            activity = await DeskStore(uow).ticket_activity(tid)
        if found is None or activity is None:
            return JSONResponse({"detail": "no such ticket"}, status_code=404, headers=NO_STORE)
        if not may_see(agent, found):
            return JSONResponse({"detail": "not your brand"}, status_code=403, headers=NO_STORE)
        may_act, refusal = _may_act(agent, found)
        owner = desk.roster.known(found.agent_id)
        return JSONResponse(
            {
                "version": version_of(activity),
                "status": found.status,
                "owner_id": found.agent_id,
                "owner_name": owner.name if owner else found.agent_id,
                "messages": activity["messages"],
                "may_act": may_act,
                "refusal": refusal,
            },
            headers=NO_STORE,
        )

    @router.get("/tickets/{ticket_id}")
    async def ticket(ticket_id: str, request: Request) -> Response:
        agent = await pages.signed_in(request)
        if agent is None:
            return pages.to_signin(request)
        try:
            tid = uuid.UUID(ticket_id)
        except ValueError:
            return await by_prefix(agent, ticket_id)
        async with desk.uow_factory() as uow:
            # read first: a change while the page is built shows as a change, never as none
            activity = await DeskStore(uow).ticket_activity(tid)
            found = await TicketStore(uow).ticket(tid)
            visible = found is not None and may_see(agent, found)
            page = plain(await ticket_page(desk, uow, found)) if found is not None and visible else {}
            statuses = await desk.roster.statuses(uow, desk.clock.now())
        presence = statuses.get(agent.id, "offline")
        if found is None or activity is None:
            return await pages.failed(agent, 404, "No such ticket", "There is no ticket with this id.")
        if not visible:
            return await pages.failed(
                agent, 403, "Not your brand", "This ticket belongs to a brand you do not work for."
            )
        may_act, refusal = _may_act(agent, found)
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
            names={a.id: a.name for a in config.agents},
        )
        live = Live(
            url=f"/desk/tickets/{tid}/state",
            version=version_of(activity),
            messages=int(activity["messages"] or 0),
            every=POLL_SECONDS,
        )
        return HTMLResponse(ticket_html(viewer, page, saved, colleagues, live), headers=NO_STORE)
