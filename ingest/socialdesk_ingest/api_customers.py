"""Customer profiles: link identities across channels, undo a link, read a profile (thin).

Authenticated by a desk agent's bearer token (the agents' ``token_env`` in the
configuration), compared in constant time against every agent's; the agent's id is
recorded on the event. One customer across channels (seed 004): once linked, a new
message from any of the identities joins the open ticket of another within the window.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from socialdesk_ingest.api_webhooks import unavailable
from socialdesk_ingest.handlers import link_customers
from socialdesk_ingest.store.customers import CustomerStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.errors import is_transient
from socialdesk_schemas.platforms import CustomerUnlinked

__all__ = ["LinkBody", "customers_router"]


class LinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_ids: list[uuid.UUID] = Field(min_length=2, max_length=50)
    reason: str | None = Field(default=None, max_length=500)


def _agent(request: Request, tokens: Mapping[str, str]) -> str | None:
    auth = request.headers.get("authorization", "")
    offered = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    found = None
    for agent, token in tokens.items():  # every token compared: the time says nothing
        if hmac.compare_digest(offered.encode(), token.encode()) and offered:
            found = agent
    return found


def _error(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "detail": detail})


def customers_router(
    *, uow_factory: UnitOfWorkFactory, clock: Clock, agent_tokens: Callable[[], Mapping[str, str]]
) -> APIRouter:
    router = APIRouter()
    unauthorized = _error(401, "unauthorized", "an agent's bearer token is required")

    @router.post("/v1/customers/links")
    async def link(request: Request, body: LinkBody) -> JSONResponse:
        agent = _agent(request, agent_tokens())
        if agent is None:
            return unauthorized
        ids = list(dict.fromkeys(body.customer_ids))
        if len(ids) < 2:
            return _error(400, "invalid_body", "two different customers are needed")
        try:
            async with uow_factory() as uow:
                store = CustomerStore(uow)
                known = await store.existing(ids)
                missing = [str(i) for i in ids if i not in known]
                if missing:
                    return _error(404, "unknown_customer", f"no such customer: {', '.join(missing)}")
                profile = known[ids[0]]
                members = await link_customers(
                    uow, ids, profile, linked_by=agent, now=clock.now(), reason=body.reason
                )
                await uow.commit()
        except Exception as exc:
            if is_transient(exc):
                return unavailable("the link could not be stored; try again")
            raise
        return JSONResponse({"profile_id": str(profile), "customer_ids": [str(m) for m in members]})

    @router.delete("/v1/customers/links/{customer_id}")
    async def unlink(request: Request, customer_id: uuid.UUID) -> JSONResponse:
        agent = _agent(request, agent_tokens())
        if agent is None:
            return unauthorized
        try:
            async with uow_factory() as uow:
                profile = await CustomerStore(uow).unlink(customer_id)
                if profile is None:
                    return _error(404, "not_linked", f"customer {customer_id} is not linked to anyone")
                uow.emit(
                    CustomerUnlinked(
                        producer="ingest",
                        occurred_at=clock.now(),
                        ticket_id=profile,
                        correlation_id=profile,
                        profile_id=profile,
                        customer_id=customer_id,
                        unlinked_by=agent,
                    )
                )
                await uow.commit()
        except Exception as exc:
            if is_transient(exc):
                return unavailable("the change could not be stored; try again")
            raise
        return JSONResponse({"profile_id": str(profile), "customer_id": str(customer_id), "linked": False})

    @router.get("/v1/customers/{customer_id}")
    async def profile(request: Request, customer_id: uuid.UUID) -> JSONResponse:
        if _agent(request, agent_tokens()) is None:
            return unauthorized
        async with uow_factory() as uow:
            identities = await CustomerStore(uow).profile(customer_id)
        if not identities:
            return _error(404, "unknown_customer", f"no such customer: {customer_id}")
        return JSONResponse({"customer_id": str(customer_id), "identities": identities})

    return router
