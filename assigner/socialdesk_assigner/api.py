"""The desk API agents work tickets through.

Each route is thin: authenticate the agent by token, load the ticket through the store,
let the domain decide (its refusals become 403 and 409 with the reason), save, emit, all
in one unit of work.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from socialdesk_assigner.domain import (
    AlreadyResolved,
    DomainError,
    Forbidden,
    Step,
    Ticket,
    may_see,
    reply,
    reply_id_for,
    resolve,
)
from socialdesk_assigner.metrics import AssignerMetrics
from socialdesk_assigner.store import TicketStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import Agent, SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork, UnitOfWorkFactory

__all__ = ["AgentLookup", "agent_tokens", "desk_router"]

AgentLookup = Callable[[str], Agent | None]


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    root_cause: str = Field(
        min_length=3, max_length=2000, description="what went wrong and what fixed it (RCA)"
    )


class ReplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=4000)


def desk_router(
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    agent_for_token: AgentLookup,
    metrics: AssignerMetrics,
) -> APIRouter:
    router = APIRouter(prefix="/v1")

    def authenticate(request: Request) -> Agent:
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        agent = agent_for_token(token) if token else None
        if agent is None:
            raise HTTPException(
                status_code=401,
                detail="missing or unknown agent token (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return agent

    async def load(store: TicketStore, ticket_id: uuid.UUID, action: str) -> Ticket:
        ticket = await store.ticket(ticket_id, lock=True)
        if ticket is None:
            metrics.desk_actions.labels(action, "not_found").inc()
            raise HTTPException(status_code=404, detail="no such ticket")
        return ticket

    def decide(action: str, transition: Callable[[], Step]) -> Step:
        try:
            return transition()
        except Forbidden as exc:
            metrics.desk_actions.labels(action, "forbidden").inc()
            raise HTTPException(status_code=403, detail=exc.reason) from None
        except AlreadyResolved:
            raise
        except DomainError as exc:
            metrics.desk_actions.labels(action, "conflict").inc()
            raise HTTPException(status_code=409, detail=exc.reason) from None

    async def commit(uow: UnitOfWork, store: TicketStore, step: Step, action: str) -> None:
        await store.save([step.ticket])
        for event in step.events:
            uow.emit(event)
        await uow.commit()
        metrics.desk_actions.labels(action, "done").inc()

    @router.post("/tickets/{ticket_id}/reply", status_code=202)
    async def reply_route(
        ticket_id: uuid.UUID,
        body: ReplyBody,
        request: Request,
        idempotency_key: str | None = Header(default=None, max_length=200),
    ) -> JSONResponse:
        """Answer the customer; answering an unowned ticket claims it."""
        agent = authenticate(request)
        now = clock.now()
        reply_id = reply_id_for(ticket_id, agent.id, idempotency_key) if idempotency_key else uuid.uuid4()
        async with uow_factory() as uow:
            store = TicketStore(uow)
            ticket = await load(store, ticket_id, "reply")
            step = decide("reply", lambda: reply(ticket, agent, reply_id=reply_id, text=body.text, now=now))
            if not await store.add_reply(
                reply_id=reply_id, ticket_id=ticket_id, agent_id=agent.id, text=body.text, at=now
            ):
                metrics.desk_actions.labels("reply", "duplicate").inc()
                return JSONResponse(
                    status_code=200, content={"reply_id": str(reply_id), "status": "duplicate"}
                )
            await commit(uow, store, step, "reply")
        return JSONResponse(status_code=202, content={"reply_id": str(reply_id), "status": "accepted"})

    @router.post("/tickets/{ticket_id}/resolve")
    async def resolve_route(ticket_id: uuid.UUID, body: ResolveBody, request: Request) -> JSONResponse:
        """Close a ticket with its root cause."""
        agent = authenticate(request)
        now = clock.now()
        async with uow_factory() as uow:
            store = TicketStore(uow)
            ticket = await load(store, ticket_id, "resolve")
            try:
                step = decide("resolve", lambda: resolve(ticket, agent, root_cause=body.root_cause, now=now))
            except AlreadyResolved:
                metrics.desk_actions.labels("resolve", "unchanged").inc()
                return JSONResponse(content={"status": "already_resolved"})
            await commit(uow, store, step, "resolve")
        return JSONResponse(content={"status": "resolved"})

    @router.get("/tickets/{ticket_id}")
    async def get_ticket(ticket_id: uuid.UUID, request: Request) -> JSONResponse:
        agent = authenticate(request)
        async with uow_factory() as uow:
            ticket = await TicketStore(uow).ticket(ticket_id)
        if ticket is None or not may_see(agent, ticket):
            raise HTTPException(status_code=404, detail="no such ticket")
        return JSONResponse(content=_ticket_json(ticket))

    @router.get("/queue")
    async def my_queue(request: Request) -> JSONResponse:
        """The agent's assigned tickets, oldest first."""
        agent = authenticate(request)
        async with uow_factory() as uow:
            mine = await TicketStore(uow).assigned_to(agent.id)
        return JSONResponse(content={"agent_id": agent.id, "tickets": [_ticket_json(t) for t in mine]})

    return router


def _ticket_json(ticket: Ticket) -> dict[str, Any]:
    def plain(value: object) -> object:
        if isinstance(value, datetime):
            return value.isoformat()
        return str(value) if isinstance(value, uuid.UUID) else value

    return {name: plain(getattr(ticket, name)) for name in Ticket.__dataclass_fields__}


def agent_tokens(config: SocialdeskConfig) -> AgentLookup:
    """Look agents up by their desk token (read from the environment once), in constant time."""
    pairs = [(config.secret(a.token_env), a) for a in config.agents if a.token_env]
    known = [(t.encode(), a) for t, a in pairs if t]

    def lookup(token: str) -> Agent | None:
        found = None
        given = token.encode()
        for secret, agent in known:  # no early exit: the time taken says nothing about the match
            if hmac.compare_digest(secret, given):
                found = agent
        return found

    return lookup
