"""The desk API agents work tickets through (thin routes; state changes in one UoW each)."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_assigner.tables import replies, tickets
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import Agent, SocialdeskConfig
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_schemas import AgentReplied, ReplyRequested, TicketAssigned, TicketResolved

PRODUCER = "assigner"
_LEVEL_RANK = {"L1": 1, "L2": 2, "L3": 3, "L4": 4, "TMT": 5}
_REPLY_NS = uuid.UUID("5b0e3d0c-3f8e-4bb5-9d53-4e1f0c1b2a77")


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
    config: SocialdeskConfig,
    agent_for_token: Callable[[str], Agent | None],
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

    @router.post("/tickets/{ticket_id}/reply", status_code=202)
    async def reply(
        ticket_id: uuid.UUID,
        body: ReplyBody,
        request: Request,
        idempotency_key: str | None = Header(default=None, max_length=200),
    ) -> JSONResponse:
        agent = authenticate(request)
        now = clock.now()
        # A retried request with the same Idempotency-Key is the same reply, never a second one.
        reply_id = (
            uuid.uuid5(_REPLY_NS, f"{ticket_id}:{agent.id}:{idempotency_key}")
            if idempotency_key
            else uuid.uuid4()
        )
        async with uow_factory() as uow:
            ticket = (
                await uow.conn.execute(
                    select(tickets).where(tickets.c.ticket_id == ticket_id).with_for_update()
                )
            ).first()
            if ticket is None:
                raise HTTPException(status_code=404, detail="no such ticket")
            if ticket.brand not in agent.brands:
                raise HTTPException(
                    status_code=403, detail="this ticket belongs to a brand you do not work for"
                )
            if ticket.queue != "cx" or ticket.status in ("dismissed", "marketing"):
                raise HTTPException(
                    status_code=409, detail=f"ticket is {ticket.status}, not a CX ticket to answer"
                )
            # An unowned (queued) ticket is anyone's on the brand: answering it claims it.
            # An owned one may be answered by its owner or by someone above them.
            if ticket.agent_id is not None and ticket.agent_id != agent.id:
                owner_level = config.agent(ticket.agent_id).level
                if _LEVEL_RANK[agent.level] <= _LEVEL_RANK[owner_level]:
                    raise HTTPException(
                        status_code=403, detail="ticket is owned by another agent at your level or above"
                    )
            inserted = (
                await uow.conn.execute(
                    pg_insert(replies)
                    .values(
                        reply_id=reply_id,
                        ticket_id=ticket_id,
                        agent_id=agent.id,
                        text=body.text,
                        created_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["reply_id"])
                    .returning(replies.c.reply_id)
                )
            ).first()
            if inserted is None:
                return JSONResponse(
                    status_code=200, content={"reply_id": str(reply_id), "status": "duplicate"}
                )
            first = ticket.first_response_at is None
            changes: dict[str, object] = {"first_response_at": now} if first else {}
            if ticket.agent_id is None:
                changes.update(agent_id=agent.id, status="assigned")
            if changes:
                await uow.conn.execute(
                    update(tickets).where(tickets.c.ticket_id == ticket_id).values(**changes)
                )
            envelope = {
                "producer": PRODUCER,
                "occurred_at": now,
                "ticket_id": ticket_id,
                "correlation_id": ticket.correlation_id,
                "causation_id": None,
            }
            if ticket.agent_id is None:
                uow.emit(
                    TicketAssigned(
                        **envelope,
                        brand=ticket.brand,
                        platform=ticket.platform,
                        agent_id=agent.id,
                        agent_level=agent.level,
                        priority=ticket.priority,
                        received_at=ticket.received_at,
                        reason="claimed",
                    )
                )
            uow.emit(
                AgentReplied(
                    **envelope,
                    reply_id=reply_id,
                    brand=ticket.brand,
                    platform=ticket.platform,
                    agent_id=agent.id,
                    replied_at=now,
                    is_first_response=first,
                )
            )
            uow.emit(
                ReplyRequested(
                    **envelope,
                    reply_id=reply_id,
                    brand=ticket.brand,
                    platform=ticket.platform,
                    kind=ticket.kind,
                    recipient_platform_user_id=ticket.recipient_platform_user_id,
                    in_reply_to_platform_message_id=ticket.last_platform_message_id,
                    text=body.text,
                    origin="agent",
                    agent_id=agent.id,
                )
            )
            await uow.commit()
        return JSONResponse(status_code=202, content={"reply_id": str(reply_id), "status": "accepted"})

    @router.post("/tickets/{ticket_id}/resolve")
    async def resolve(ticket_id: uuid.UUID, body: ResolveBody, request: Request) -> JSONResponse:
        """Close a ticket with its root cause (seed 000: every concern closed with an RCA)."""
        agent = authenticate(request)
        now = clock.now()
        async with uow_factory() as uow:
            ticket = (
                await uow.conn.execute(
                    select(tickets).where(tickets.c.ticket_id == ticket_id).with_for_update()
                )
            ).first()
            if ticket is None or ticket.brand not in agent.brands:
                raise HTTPException(status_code=404, detail="no such ticket")
            if ticket.status == "resolved":
                return JSONResponse(content={"status": "already_resolved"})
            if ticket.agent_id not in (None, agent.id):
                owner_level = config.agent(ticket.agent_id).level
                if _LEVEL_RANK[agent.level] <= _LEVEL_RANK[owner_level]:
                    raise HTTPException(
                        status_code=403, detail="ticket is owned by another agent at your level or above"
                    )
            await uow.conn.execute(
                update(tickets)
                .where(tickets.c.ticket_id == ticket_id)
                .values(status="resolved", resolved_at=now, root_cause=body.root_cause)
            )
            uow.emit(
                TicketResolved(
                    producer=PRODUCER,
                    occurred_at=now,
                    ticket_id=ticket_id,
                    correlation_id=ticket.correlation_id,
                    brand=ticket.brand,
                    agent_id=agent.id,
                    root_cause=body.root_cause,
                    resolved_at=now,
                )
            )
            await uow.commit()
        return JSONResponse(content={"status": "resolved"})

    @router.get("/tickets/{ticket_id}")
    async def get_ticket(ticket_id: uuid.UUID, request: Request) -> JSONResponse:
        agent = authenticate(request)
        async with uow_factory() as uow:
            row = (await uow.conn.execute(select(tickets).where(tickets.c.ticket_id == ticket_id))).first()
        if row is None or row.brand not in agent.brands:
            raise HTTPException(status_code=404, detail="no such ticket")
        return JSONResponse(content=_ticket_json(row._mapping))

    @router.get("/queue")
    async def my_queue(request: Request) -> JSONResponse:
        agent = authenticate(request)
        async with uow_factory() as uow:
            rows = (
                await uow.conn.execute(
                    select(tickets)
                    .where(tickets.c.agent_id == agent.id, tickets.c.status == "assigned")
                    .order_by(tickets.c.received_at)
                    .limit(200)
                )
            ).all()
        return JSONResponse(
            content={"agent_id": agent.id, "tickets": [_ticket_json(r._mapping) for r in rows]}
        )

    return router


def _ticket_json(row: object) -> dict[str, object]:
    data = dict(row)  # type: ignore[call-overload]  # a RowMapping
    return {
        k: (v.isoformat() if hasattr(v, "isoformat") else str(v) if isinstance(v, uuid.UUID) else v)
        for k, v in data.items()
    }


def token_index(config: SocialdeskConfig) -> Callable[[str], Agent | None]:
    """Look agents up by their desk token, comparing in constant time."""
    pairs = [(config.secret(a.token_env), a) for a in config.agents if a.token_env]
    known = [(t, a) for t, a in pairs if t]

    def lookup(token: str) -> Agent | None:
        found = None
        for secret, agent in known:
            if hmac.compare_digest(secret.encode(), token.encode()):
                found = agent
        return found

    return lookup
