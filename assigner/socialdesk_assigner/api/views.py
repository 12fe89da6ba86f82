"""Reading the desk: the queue, the ticket page, saved replies, who is on, held replies; and
setting one's own presence."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from socialdesk_assigner.api.common import Desk, Outcome, plain
from socialdesk_assigner.domain import Ticket
from socialdesk_assigner.domain.permissions import rank
from socialdesk_assigner.domain.replies import saved_replies_for
from socialdesk_assigner.domain.views import queue_scope
from socialdesk_assigner.store import DeskStore, TicketStore
from socialdesk_assigner.store.page import page_context
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import Platform

__all__ = ["ticket_page", "ticket_summary", "view_routes"]

_QUEUE_MAX = 500


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["online", "away", "offline"]
    note: str = Field(default="", description="the hand-off note for tickets handed on")


def ticket_summary(ticket: Ticket, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    fields = {name: getattr(ticket, name) for name in Ticket.__dataclass_fields__}
    out: dict[str, Any] = plain({**fields, **(extra or {})})
    return out


def view_routes(router: APIRouter, desk: Desk) -> None:
    config = desk.config

    @router.get("/queue")
    async def queue_route(
        request: Request,
        status: Literal["open", "assigned", "pending"] | None = None,
        brand: str | None = None,
        platform: str | None = None,
        priority: str | None = None,
        category: str | None = None,
        group: str | None = None,
        escalated: bool | None = None,
        owner: str | None = Query(default=None, description="an agent id, 'me', or 'none' (unowned)"),
        limit: int = Query(default=100, ge=1, le=_QUEUE_MAX),
    ) -> JSONResponse:
        """Your work, most urgent first (SLA due time, then priority, then oldest).

        L1/L2: your tickets and your brands' unowned queue; L3/L4: every open ticket of your
        brands (escalated ones included); TMT: everything."""
        agent = await desk.authenticate(request)
        filters = {
            "status": status,
            "brand": brand,
            "platform": platform,
            "priority": priority,
            "category": category,
            "group_id": group,
            "escalated": escalated,
            "owner": agent.id if owner == "me" else owner,
        }
        async with desk.uow_factory() as uow:
            rows = await DeskStore(uow).queue(queue_scope(agent), filters, limit=limit)
        return JSONResponse(
            content={
                "agent_id": agent.id,
                "tickets": [
                    ticket_summary(t, {**extra, "escalated": t.escalation_level is not None})
                    for t, extra in rows
                ],
            }
        )

    @router.get("/tickets/{ticket_id}")
    async def ticket_route(ticket_id: uuid.UUID, request: Request) -> JSONResponse:
        """The ticket's fields, and everything needed to answer: the conversation in order (with delivery states, edits
        and deletions), the customer on every linked channel and their other tickets, the
        classification and its reasons, the incident group, SLA clocks, notes, history."""
        agent = await desk.authenticate(request)
        async with desk.uow_factory() as uow:
            ticket = await desk.load(uow, ticket_id, agent, "view", lock=False)
            page = await ticket_page(desk, uow, ticket)
        return JSONResponse(content=plain(page))

    @router.get("/saved-replies")
    async def saved_replies_route(
        request: Request, brand: str, language: str | None = None, platform: Platform | None = None
    ) -> JSONResponse:
        """The saved replies a brand's agents may use, in a language (default: the brand's);
        with ``platform``, only those meant for it, each in that platform's tone if it has one."""
        agent = await desk.authenticate(request)
        if agent.level != "TMT" and brand not in agent.brands:
            raise HTTPException(status_code=403, detail="you do not work for this brand")
        try:
            views = saved_replies_for(config, brand=brand, language=language, platform=platform)
        except KeyError:
            raise HTTPException(status_code=404, detail="no such brand") from None
        return JSONResponse(
            content={
                "brand": brand,
                "platform": platform,
                "saved_replies": [
                    {
                        "key": v.key,
                        "title": v.title,
                        "language": v.language,
                        "text": v.text,
                        "placeholders": list(v.placeholders),
                        "tone": v.platform,
                    }
                    for v in views
                ],
            }
        )

    @router.get("/agents")
    async def agents_route(request: Request) -> JSONResponse:
        """Who is on (presence, shift) and how loaded, for your brands."""
        agent = await desk.authenticate(request)
        now = desk.clock.now()
        async with desk.uow_factory() as uow:
            statuses = await desk.roster.statuses(uow, now)
            load = await TicketStore(uow).open_load([a.id for a in config.agents])
        visible = [a for a in config.agents if agent.level == "TMT" or set(a.brands) & set(agent.brands)]
        return JSONResponse(
            content={
                "agents": [
                    {
                        "id": a.id,
                        "name": a.name,
                        "level": a.level,
                        "brands": a.brands,
                        "status": statuses.get(a.id, "offline"),
                        "open_tickets": load.get(a.id, 0),
                        "capacity": a.max_open_tickets,
                    }
                    for a in visible
                ]
            }
        )

    @router.put("/agents/me/status")
    async def status_route(body: StatusBody, request: Request) -> JSONResponse:
        """Set your presence. Going online takes work from your brands' queue; going offline
        hands your open tickets on (or keeps them, per the desk's policy) with a hand-off note."""
        agent = await desk.authenticate(request)

        async def work(uow: UnitOfWork) -> Outcome:
            now = desk.clock.now()
            await DeskStore(uow).set_presence(agent.id, body.status, now)
            moved: list[Any] = []
            if body.status == "online":
                moved = await desk.dispatcher.drain(uow, agent.brands, now)
            elif body.status == "offline" and config.desk.offline_policy == "hand_on":
                note = body.note or f"{agent.name} went offline"
                moved = await desk.dispatcher.hand_on(uow, agent, now, reason=note)
                for ticket_id in dict.fromkeys(e.ticket_id for e in moved):
                    await DeskStore(uow).add_note(
                        note_id=uuid.uuid4(),
                        ticket_id=ticket_id,
                        agent_id=agent.id,
                        text=f"Hand-off: {note}",
                        kind="handoff",
                        added_at=now,
                    )
            return 200, {"agent_id": agent.id, "status": body.status, "tickets_moved": len(moved)}

        return await desk.post(request, agent, "status", body, work)

    @router.get("/replies/pending-approval")
    async def held_route(request: Request) -> JSONResponse:
        """Replies waiting for approval on your brands' tickets."""
        agent = await desk.authenticate(request)
        async with desk.uow_factory() as uow:
            held = await DeskStore(uow).held_replies(
                None if rank(agent.level) >= rank("TMT") else agent.brands
            )
        return JSONResponse(content=plain({"replies": held}))


async def ticket_page(desk: Desk, uow: UnitOfWork, ticket: Ticket) -> dict[str, Any]:
    """The ticket page's data (the API's ``GET /v1/tickets/{id}`` and the browser's page)."""
    store = DeskStore(uow)
    messages, sent = await store.conversation(ticket.ticket_id)
    conversation: list[dict[str, Any]] = []
    for m in messages:
        deleted = m["deleted_at"] is not None
        conversation.append(
            {
                "type": "message" if m["direction"] == "customer" else "reply",
                "from": "customer" if m["direction"] == "customer" else "platform_inbox",
                "author": m["author_name"] or m["author_id"],
                "text": m["text"],
                "at": m["at"],
                "platform_message_id": m["platform_message_id"],
                "edited": m["edited_at"] is not None,
                "edited_at": m["edited_at"],
                "original_text": m["original_text"],
                "deleted": deleted,
                "deleted_at": m["deleted_at"],
                "attachments": [] if deleted else (m.get("attachments") or []),
            }
        )
    for r in sent:
        author = desk.roster.known(r["agent_id"])
        conversation.append(
            {
                "type": "reply",
                "from": "agent" if r["origin"] == "agent" else r["origin"],
                "reply_id": r["reply_id"],
                "agent_id": r["agent_id"],
                "author": author.name if author else r["agent_id"],
                "text": r["text"],
                "at": r["created_at"],
                "delivery": r["status"],
                "delivery_at": r["status_at"],
                "platform_message_id": r["platform_message_id"],
                "failure_reason": r["failure_reason"],
                "template_key": r["template_key"],
                "approved_by": r["approved_by"],
                "rejected_reason": r["rejected_reason"],
            }
        )
    conversation.sort(key=lambda item: item["at"])
    owner = desk.roster.known(ticket.agent_id)
    context = await page_context(
        uow,
        ticket_id=ticket.ticket_id,
        customer_id=ticket.customer_id,
        brand=ticket.brand,
        group_id=ticket.group_id,
    )
    return {
        **ticket_summary(ticket),
        "owner": None
        if ticket.agent_id is None
        else {"id": ticket.agent_id, "name": owner.name if owner else None},
        "conversation": conversation,
        "customer": {"customer_id": ticket.customer_id, **context["customer"]},
        "classification": context["classification"],
        "group": context["group"],
        "sla": context["sla"],
        "escalation_level": ticket.escalation_level,
        "watchers": list(ticket.watchers),
        "notes": context["notes"],
        "follow_ups": context["follow_ups"],
        "history": context["history"],
        "root_causes": desk.config.desk.root_causes,
    }
