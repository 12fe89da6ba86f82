"""Answering customers: free text or a saved reply with placeholders (held as
``pending_approval`` when the approval rules say so), one saved reply to a whole incident
group, asking for feedback; approving or rejecting a held reply."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from socialdesk_assigner.api.common import Desk, Outcome
from socialdesk_assigner.domain import (
    Step,
    Ticket,
    check_may_act,
    claim,
    reply,
    reply_id_for,
)
from socialdesk_assigner.domain.approvals import check_may_review, hold_reason
from socialdesk_assigner.domain.desk import (
    send_reply,
)
from socialdesk_assigner.domain.errors import DomainError, InvalidTransition, Unprocessable
from socialdesk_assigner.domain.replies import fill, group_reply_identity, saved_reply_for, text_in
from socialdesk_assigner.domain.ticket import require_words
from socialdesk_assigner.store import DeskStore, ReadModelStore, TicketStore
from socialdesk_runtime.config import Agent
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import ReplyRequested

__all__ = ["reply_routes"]

_FEEDBACK_KEY = "feedback_request"
_FEEDBACK_DEFAULT = (
    "Thank you for reaching out! How did we do? Reply with a number from 1 (poor) to 5 (great)."
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReplyBody(_Body):
    text: str | None = Field(default=None, min_length=1, description="free text, or use saved_reply")
    saved_reply: str | None = Field(default=None, description="a saved reply's key (GET /v1/saved-replies)")
    placeholders: dict[str, str] = Field(default_factory=dict, description="values for {name} placeholders")


class GroupReplyBody(_Body):
    brand: str
    saved_reply: str
    placeholders: dict[str, str] = Field(default_factory=dict)


class ReviewBody(_Body):
    reason: str = Field(default="", max_length=2000)


def reply_routes(router: APIRouter, desk: Desk) -> None:
    config = desk.config

    async def customer_name(uow: UnitOfWork, ticket: Ticket) -> str:
        names = await DeskStore(uow).display_names([ticket.customer_id])
        return names.get(ticket.customer_id, "")

    def compose(ticket: Ticket, agent: Agent, body: ReplyBody, name: str) -> tuple[str, str | None]:
        if (body.text is None) == (body.saved_reply is None):
            raise Unprocessable("give either text or saved_reply")
        values = {"customer_name": name, "agent_name": agent.name, **body.placeholders}
        if body.saved_reply is None:
            return fill(body.text or "", values) if "{" in (body.text or "") else body.text or "", None
        saved = saved_reply_for(
            config.saved_replies, body.saved_reply, brand=ticket.brand, platform=ticket.platform
        )
        if saved is None:
            raise Unprocessable(
                f"no saved reply {body.saved_reply!r} for brand {ticket.brand!r} on {ticket.platform}"
            )
        text = text_in(
            saved,
            ticket.language,
            fallback=config.brand(ticket.brand).default_language,
            platform=ticket.platform,
        )
        return fill(text, values), body.saved_reply

    async def answer(
        uow: UnitOfWork, ticket: Ticket, agent: Agent, *, reply_id: uuid.UUID, text: str, template: str | None
    ) -> Outcome:
        """Send (or hold for approval) one reply on ``ticket``."""
        now = desk.clock.now()
        desk.check_size(text, "the reply")
        store = TicketStore(uow)
        held = hold_reason(config.desk.approvals, agent, ticket)
        step: Step | None
        if held is None:
            step = desk.decide(
                "reply",
                lambda: _replied(ticket, agent, reply_id=reply_id, text=text, template=template, now=now),
            )
        else:  # checked like a reply; an unowned ticket is claimed now, the reply waits
            desk.decide("reply", lambda: _require_answerable(ticket, agent, text))
            step = (
                desk.decide("reply", lambda: claim(ticket, agent, now=now))
                if ticket.agent_id is None
                else None
            )
        status = "requested" if held is None else "pending_approval"
        if not await store.add_reply(
            reply_id=reply_id,
            ticket_id=ticket.ticket_id,
            agent_id=agent.id,
            text=text,
            at=now,
            status=status,
            template_key=template,
            request_event_id=_request_id(step) if held is None else None,
        ):
            raise HTTPException(status_code=409, detail="this reply was already made")
        if step is not None:
            await desk.apply(uow, step)
        if held is not None:
            await DeskStore(uow).add_history(
                [
                    {
                        "ticket_id": ticket.ticket_id,
                        "at": now,
                        "kind": "ReplyHeldForApproval",
                        "actor": agent.id,
                        "detail": held,
                    }
                ]
            )
            return 202, {"reply_id": reply_id, "status": "pending_approval", "reason": held}
        return 202, {"reply_id": reply_id, "status": "accepted"}

    @router.post("/tickets/{ticket_id}/reply", status_code=202)
    async def reply_route(ticket_id: uuid.UUID, body: ReplyBody, request: Request) -> JSONResponse:
        """Answer the customer (free text or a saved reply); answering an unowned ticket claims it.
        A reply the approval rules hold waits as ``pending_approval``."""
        agent = await desk.authenticate(request)
        key = request.headers.get("idempotency-key")
        reply_id = reply_id_for(ticket_id, agent.id, key) if key else uuid.uuid4()

        async def work(uow: UnitOfWork) -> Outcome:
            ticket = await desk.load(uow, ticket_id, agent, "reply")
            name = await customer_name(uow, ticket)
            text, template = desk.decide("reply", lambda: compose(ticket, agent, body, name))
            return await answer(uow, ticket, agent, reply_id=reply_id, text=text, template=template)

        if body.text is not None:
            desk.check_size(body.text, "the reply")
        return await desk.post(request, agent, "reply", body, work)

    @router.post("/groups/{group_id}/reply", status_code=202)
    async def group_reply(group_id: str, body: GroupReplyBody, request: Request) -> JSONResponse:
        """Answer every open ticket of an incident group with one saved reply (seed 001): each
        customer gets their own message, with their own name filled in, in their platform's tone.

        Safe to retry: without an ``Idempotency-Key`` each ticket's reply is derived from the
        group, the saved reply and its placeholders, whoever calls, so the same request again
        (by anyone) sends nothing twice (tickets already answered are listed with ``"already": true``;
        a ticket that joined the group since gets its reply). To send the same saved reply
        to the group again on purpose, give a new ``Idempotency-Key``."""
        agent = await desk.authenticate(request)
        key = request.headers.get("idempotency-key")
        # What makes this request the same one again: its key (the caller's), else its content
        # from anyone: a lead repeating an agent's answer to the group sends nobody a second.
        identity = key if key is not None else group_reply_identity(body.saved_reply, body.placeholders)
        caller = agent.id if key is not None else "anyone"

        async def work(uow: UnitOfWork) -> Outcome:
            if agent.level != "TMT" and body.brand not in agent.brands:
                raise HTTPException(
                    status_code=403, detail="this group belongs to a brand you do not work for"
                )
            group_body = ReplyBody(saved_reply=body.saved_reply, placeholders=body.placeholders)
            tickets = await DeskStore(uow).group_tickets(body.brand, group_id)
            names = await DeskStore(uow).display_names([t.customer_id for t in tickets])
            sent: list[dict[str, Any]] = []
            skipped: list[dict[str, Any]] = []
            rids = {
                t.ticket_id: uuid.uuid5(reply_id_for(t.ticket_id, caller, group_id), identity)
                for t in tickets
            }
            made = await DeskStore(uow).reply_states(rids.values())
            for ticket in tickets:
                rid = rids[ticket.ticket_id]
                if rid in made:  # answered by this same request before (a retry)
                    sent.append(
                        {"ticket_id": ticket.ticket_id, "reply_id": rid, "status": made[rid], "already": True}
                    )
                    continue
                try:
                    check_may_act(agent, ticket)
                except DomainError as exc:  # another agent's ticket: left to them
                    skipped.append({"ticket_id": ticket.ticket_id, "reason": str(exc)})
                    continue
                name = names.get(ticket.customer_id, "")
                text, template = desk.decide(
                    "group_reply", functools.partial(compose, ticket, agent, group_body, name)
                )
                _status, out = await answer(uow, ticket, agent, reply_id=rid, text=text, template=template)
                sent.append({"ticket_id": ticket.ticket_id, **out})
            if not sent and not skipped:
                raise HTTPException(status_code=404, detail="no open tickets in this group")
            return 202, {"group_id": group_id, "replies": sent, "skipped": skipped}

        return await desk.post(request, agent, "group_reply", body, work)

    @router.post("/tickets/{ticket_id}/feedback", status_code=202)
    async def feedback_route(ticket_id: uuid.UUID, request: Request) -> JSONResponse:
        """Ask the customer how we did (the saved reply ``feedback_request`` if configured)."""
        agent = await desk.authenticate(request)
        key = request.headers.get("idempotency-key")
        reply_id = reply_id_for(ticket_id, agent.id, f"feedback:{key}") if key else uuid.uuid4()

        async def work(uow: UnitOfWork) -> Outcome:
            ticket = await desk.load(uow, ticket_id, agent, "feedback")
            # One survey per ticket, whoever asks (the ticket is locked): one asked already and
            # not failed or refused is the answer, and nothing is sent again.
            asked = await ReadModelStore(uow).survey_of(ticket_id, _FEEDBACK_KEY, _FEEDBACK_DEFAULT)
            if asked is not None:
                return 200, {
                    "reply_id": asked["reply_id"],
                    "status": asked["status"],
                    "already": True,
                    "kind": "feedback_request",
                }
            saved = saved_reply_for(
                config.saved_replies, _FEEDBACK_KEY, brand=ticket.brand, platform=ticket.platform
            )
            name = await customer_name(uow, ticket)
            text = _FEEDBACK_DEFAULT
            if saved is not None:
                raw = text_in(
                    saved,
                    ticket.language,
                    fallback=config.brand(ticket.brand).default_language,
                    platform=ticket.platform,
                )
                text = desk.decide(
                    "feedback", lambda: fill(raw, {"customer_name": name, "agent_name": agent.name})
                )
            status, out = await answer(
                uow, ticket, agent, reply_id=reply_id, text=text, template=_FEEDBACK_KEY if saved else None
            )
            return status, {**out, "kind": "feedback_request"}

        return await desk.post(request, agent, "feedback", {}, work)

    async def review(request: Request, reply_id: uuid.UUID, body: ReviewBody, approve: bool) -> JSONResponse:
        agent = await desk.authenticate(request)
        action = "approve" if approve else "reject"

        async def work(uow: UnitOfWork) -> Outcome:
            held = await DeskStore(uow).reply(reply_id, lock=True)
            if held is None:
                raise HTTPException(status_code=404, detail="no such reply")
            ticket = await desk.load(uow, held["ticket_id"], agent, action)
            desk.decide(
                action,
                lambda: check_may_review(
                    config.desk.approvals,
                    agent,
                    author_id=held["agent_id"],
                    ticket=ticket,
                    status=held["status"],
                ),
            )
            now = desk.clock.now()
            if not approve:
                if not body.reason:
                    raise HTTPException(status_code=422, detail="say why the reply is rejected (reason)")
                await DeskStore(uow).review_reply(
                    reply_id, status="rejected", at=now, rejected_reason=body.reason, approved_by=agent.id
                )
                await DeskStore(uow).add_history(
                    [
                        {
                            "ticket_id": ticket.ticket_id,
                            "at": now,
                            "kind": "ReplyRejected",
                            "actor": agent.id,
                            "detail": body.reason[:1000],
                        }
                    ]
                )
                return 200, {"reply_id": reply_id, "status": "rejected"}
            if ticket.status not in ("open", "assigned", "pending"):
                raise HTTPException(
                    status_code=409, detail=f"ticket is {ticket.status}; the reply can no longer be sent"
                )
            step = send_reply(
                ticket,
                author_id=held["agent_id"],
                reply_id=reply_id,
                text=held["text"],
                now=now,
                template_key=held["template_key"],
            )
            await DeskStore(uow).review_reply(
                reply_id, status="requested", at=now, approved_by=agent.id, request_event_id=_request_id(step)
            )
            await desk.apply(uow, step)
            await DeskStore(uow).add_history(
                [
                    {
                        "ticket_id": ticket.ticket_id,
                        "at": now,
                        "kind": "ReplyApproved",
                        "actor": agent.id,
                        "detail": "",
                    }
                ]
            )
            return 200, {"reply_id": reply_id, "status": "approved"}

        return await desk.post(request, agent, action, body, work)

    @router.post("/replies/{reply_id}/approve")
    async def approve_route(
        reply_id: uuid.UUID, request: Request, body: ReviewBody | None = None
    ) -> JSONResponse:
        """Approve a held reply: only now is it sent. Never your own (409)."""
        return await review(request, reply_id, body or ReviewBody(), True)

    @router.post("/replies/{reply_id}/reject")
    async def reject_route(reply_id: uuid.UUID, body: ReviewBody, request: Request) -> JSONResponse:
        """Reject a held reply with a reason; it is never sent."""
        return await review(request, reply_id, body, False)


def _replied(
    ticket: Ticket, agent: Agent, *, reply_id: uuid.UUID, text: str, template: str | None, now: datetime
) -> Step:
    """:func:`reply`, with the saved reply's key on the request when one was used."""
    step = reply(ticket, agent, reply_id=reply_id, text=text, now=now)
    if template is None:
        return step
    events = tuple(
        e.model_copy(update={"template_key": template}) if isinstance(e, ReplyRequested) else e
        for e in step.events
    )
    return Step(step.ticket, events, step.transition)


def _require_answerable(ticket: Ticket, agent: Agent, text: str) -> None:
    check_may_act(agent, ticket)
    require_words(text, "the reply")
    if ticket.queue != "cx" or ticket.status not in ("open", "assigned", "pending"):
        raise InvalidTransition(f"ticket is {ticket.status}; reopen it first")


def _request_id(step: Step | None) -> uuid.UUID | None:
    """The id of the ``ReplyRequested`` a step emits (deliveries are reported against it)."""
    for event in step.events if step is not None else ():
        if isinstance(event, ReplyRequested):
            return event.event_id
    return None
