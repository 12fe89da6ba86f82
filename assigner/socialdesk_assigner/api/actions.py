"""Working a ticket: notes, claim, assign with a hand-off note, pending, resolve with a
root cause, reopen, follow-up, testimonial."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from socialdesk_assigner.api.common import Desk, Outcome
from socialdesk_assigner.domain import (
    AlreadyResolved,
    claim,
    resolve,
)
from socialdesk_assigner.domain.desk import (
    add_note,
    hand_off,
    pend,
    promise_follow_up,
    reopen_by_agent,
)
from socialdesk_assigner.domain.ticket import root_cause_of
from socialdesk_assigner.domain.views import history_rows
from socialdesk_assigner.store import DeskStore
from socialdesk_runtime.db import UnitOfWork

__all__ = ["action_routes"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoteBody(_Body):
    text: str = Field(min_length=1)


class AssignBody(_Body):
    agent_id: str
    note: str = Field(default="", description="the hand-off note: where things stand")


class PendingBody(_Body):
    reason: str = Field(default="", max_length=500)


class ResolveBody(_Body):
    root_cause: str = Field(min_length=3, description="what went wrong and what fixed it (RCA)")
    category: str | None = Field(default=None, description="a root-cause category of the configuration")


class FollowUpBody(_Body):
    due_at: AwareDatetime
    note: str = Field(default="", max_length=2000)


class TestimonialBody(_Body):
    note: str = Field(default="")


def action_routes(router: APIRouter, desk: Desk) -> None:
    config = desk.config

    @router.post("/tickets/{ticket_id}/notes", status_code=201)
    async def note_route(ticket_id: uuid.UUID, body: NoteBody, request: Request) -> JSONResponse:
        """An internal note: seen by the team, never sent to the customer."""
        agent = await desk.authenticate(request)
        desk.check_size(body.text, "the note")

        async def work(uow: UnitOfWork) -> Outcome:
            ticket = await desk.load(uow, ticket_id, agent, "note", lock=False)
            note_id = uuid.uuid4()
            now = desk.clock.now()
            step = desk.decide(
                "note", lambda: add_note(ticket, agent, note_id=note_id, text=body.text, now=now)
            )
            await DeskStore(uow).add_note(
                note_id=note_id,
                ticket_id=ticket_id,
                agent_id=agent.id,
                text=body.text,
                kind="note",
                added_at=now,
            )
            for event in step.events:
                uow.emit(event)
            await DeskStore(uow).add_history(history_rows(step.events))
            return 201, {"note_id": note_id}

        return await desk.post(request, agent, "note", body, work)

    async def simple(
        request: Request, ticket_id: uuid.UUID, action: str, body: Any, transition: Any
    ) -> JSONResponse:
        agent = await desk.authenticate(request)

        async def work(uow: UnitOfWork) -> Outcome:
            ticket = await desk.load(uow, ticket_id, agent, action)
            step = desk.decide(action, lambda: transition(ticket, agent, desk.clock.now()))
            await desk.apply(uow, step)
            return 200, {"status": step.ticket.status, "agent_id": step.ticket.agent_id}

        return await desk.post(request, agent, action, body, work)

    @router.post("/tickets/{ticket_id}/claim")
    async def claim_route(ticket_id: uuid.UUID, request: Request) -> JSONResponse:
        """Take an unowned ticket from the queue."""
        return await simple(request, ticket_id, "claim", {}, lambda t, a, now: claim(t, a, now=now))

    @router.post("/tickets/{ticket_id}/pending")
    async def pending_route(
        ticket_id: uuid.UUID, request: Request, body: PendingBody | None = None
    ) -> JSONResponse:
        """Wait on the customer: the resolution clock pauses until they write."""
        b = body or PendingBody()
        return await simple(
            request, ticket_id, "pending", b, lambda t, a, now: pend(t, a, reason=b.reason, now=now)
        )

    @router.post("/tickets/{ticket_id}/reopen")
    async def reopen_route(ticket_id: uuid.UUID, request: Request) -> JSONResponse:
        """Open a resolved (or pending) ticket again; you own it and its clocks re-arm."""
        return await simple(
            request, ticket_id, "reopen", {}, lambda t, a, now: reopen_by_agent(t, a, now=now)
        )

    @router.post("/tickets/{ticket_id}/assign")
    async def assign_route(ticket_id: uuid.UUID, body: AssignBody, request: Request) -> JSONResponse:
        """Hand the ticket to another agent, with a hand-off note for them."""
        agent = await desk.authenticate(request)
        desk.check_size(body.note, "the hand-off note")

        async def work(uow: UnitOfWork) -> Outcome:
            ticket = await desk.load(uow, ticket_id, agent, "assign")
            to = desk.roster.known(body.agent_id)
            if to is None:
                raise HTTPException(
                    status_code=422, detail=f"no agent {body.agent_id!r} in the configuration"
                )
            now = desk.clock.now()
            status = (await DeskStore(uow).presence()).get(to.id, "online" if to.online else "offline")
            step = desk.decide("assign", lambda: hand_off(ticket, agent, to, now=now, to_presence=status))
            await desk.apply(uow, step)
            if body.note:
                await DeskStore(uow).add_note(
                    note_id=uuid.uuid4(),
                    ticket_id=ticket_id,
                    agent_id=agent.id,
                    text=f"Hand-off to {to.name}: {body.note}",
                    kind="handoff",
                    added_at=now,
                )
            return 200, {"status": step.ticket.status, "agent_id": to.id}

        return await desk.post(request, agent, "assign", body, work)

    @router.post("/tickets/{ticket_id}/resolve")
    async def resolve_route(ticket_id: uuid.UUID, body: ResolveBody, request: Request) -> JSONResponse:
        """Close the ticket with its root cause: a configured category and what happened."""
        agent = await desk.authenticate(request)
        desk.check_size(body.root_cause, "the root cause")
        causes = config.desk.root_causes
        if body.category is not None and body.category not in causes:
            raise HTTPException(
                status_code=422, detail=f"unknown root-cause category; use one of {', '.join(causes)}"
            )
        root = desk.decide("resolve", lambda: root_cause_of(body.root_cause, body.category))

        async def work(uow: UnitOfWork) -> Outcome:
            ticket = await desk.load(uow, ticket_id, agent, "resolve")
            try:
                step = desk.decide(
                    "resolve", lambda: resolve(ticket, agent, root_cause=root, now=desk.clock.now())
                )
            except AlreadyResolved:
                raise HTTPException(
                    status_code=409, detail="ticket is already resolved; reopen it first"
                ) from None
            await desk.apply(uow, step)
            await desk.dispatcher.drain(uow, [ticket.brand], desk.clock.now())  # capacity freed up
            return 200, {"status": "resolved", "root_cause": root}

        return await desk.post(request, agent, "resolve", body, work)

    @router.post("/tickets/{ticket_id}/follow-up", status_code=201)
    async def follow_up_route(ticket_id: uuid.UUID, body: FollowUpBody, request: Request) -> JSONResponse:
        """Promise the customer a follow-up by ``due_at``: a timer the SLA monitor keeps."""
        agent = await desk.authenticate(request)

        async def work(uow: UnitOfWork) -> Outcome:
            ticket = await desk.load(uow, ticket_id, agent, "follow_up")
            fid = uuid.uuid4()
            now = desk.clock.now()
            step = desk.decide(
                "follow_up",
                lambda: promise_follow_up(
                    ticket, agent, follow_up_id=fid, due_at=body.due_at, note=body.note, now=now
                ),
            )
            await desk.apply(uow, step)
            await DeskStore(uow).add_follow_up(
                follow_up_id=fid,
                ticket_id=ticket_id,
                agent_id=agent.id,
                due_at=body.due_at,
                note=body.note,
                promised_at=now,
            )
            return 201, {"follow_up_id": fid, "due_at": body.due_at}

        return await desk.post(request, agent, "follow_up", body, work)

    @router.post("/tickets/{ticket_id}/testimonial", status_code=201)
    async def testimonial_route(
        ticket_id: uuid.UUID, request: Request, body: TestimonialBody | None = None
    ) -> JSONResponse:
        """Mark the customer's post as a testimonial (praise worth sharing with marketing)."""
        agent = await desk.authenticate(request)
        b = body or TestimonialBody()
        desk.check_size(b.note, "the note")

        async def work(uow: UnitOfWork) -> Outcome:
            ticket = await desk.load(uow, ticket_id, agent, "testimonial", lock=False)
            now = desk.clock.now()
            note_id = uuid.uuid4()
            text = f"Testimonial: {b.note}" if b.note else "Testimonial"
            step = desk.decide(
                "testimonial", lambda: add_note(ticket, agent, note_id=note_id, text=text, now=now)
            )
            await DeskStore(uow).add_note(
                note_id=note_id,
                ticket_id=ticket_id,
                agent_id=agent.id,
                text=text,
                kind="testimonial",
                added_at=now,
            )
            for event in step.events:
                uow.emit(event)
            await DeskStore(uow).add_history(
                [
                    {
                        "ticket_id": ticket_id,
                        "at": now,
                        "kind": "MarkedTestimonial",
                        "actor": agent.id,
                        "detail": b.note[:500],
                    }
                ]
            )
            return 201, {"note_id": note_id, "testimonial": True}

        return await desk.post(request, agent, "testimonial", b, work)
