"""What every desk route shares: the agent behind the bearer token (or, for the desk's pages,
the session cookie: ``api.cookie``), loading a ticket with the
right refusal (404 unknown, 403 another brand's, never its content), turning the domain's
refusals into HTTP answers, sizes (413), and ``Idempotency-Key`` on every POST."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import orjson
from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

from socialdesk_assigner.api.cookie import COOKIE, DESK_API, api_path, cookie_agent
from socialdesk_assigner.domain import (
    DomainError,
    Forbidden,
    Step,
    Ticket,
    Unprocessable,
    may_see,
)
from socialdesk_assigner.domain.views import history_rows
from socialdesk_assigner.metrics import AssignerMetrics
from socialdesk_assigner.presence import Dispatcher, Roster
from socialdesk_assigner.sessions import DeskSessions
from socialdesk_assigner.store import DeskStore, TicketStore
from socialdesk_assigner.transient import retried, unavailable
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import Agent, SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork, UnitOfWorkFactory
from socialdesk_runtime.errors import is_transient

__all__ = ["AgentLookup", "Desk", "agent_tokens", "plain"]

AgentLookup = Callable[[str], Agent | None]
T = TypeVar("T")
Outcome = tuple[int, dict[str, Any]]


def plain(value: Any) -> Any:
    """JSON-ready: datetimes as ISO 8601, UUIDs as strings, containers recursively."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Desk:
    """Everything a route needs, built once by bootstrap."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    config: SocialdeskConfig
    roster: Roster
    dispatcher: Dispatcher
    agent_for_token: AgentLookup
    metrics: AssignerMetrics
    sessions: DeskSessions

    async def authenticate(self, request: Request) -> Agent:
        """The agent of ``Authorization: Bearer`` when the header is given; else, under
        ``/desk/v1`` only (the pages' door, never the public ``/v1``), of the desk's session
        cookie when there is one (``api.cookie``)."""
        pages = request.url.path.startswith(DESK_API + "/")
        if pages and "authorization" not in request.headers and COOKIE in request.cookies:
            return await cookie_agent(request, self.sessions)
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        agent = self.agent_for_token(token) if token else None
        if agent is None:
            raise HTTPException(
                status_code=401,
                detail="missing or unknown agent token (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return agent

    def check_size(self, text: str, what: str) -> None:
        limit = self.config.desk.max_text_chars
        if len(text) > limit:
            raise HTTPException(
                status_code=413, detail=f"{what} is {len(text)} characters; the limit is {limit}"
            )

    async def load(
        self, uow: UnitOfWork, ticket_id: uuid.UUID, agent: Agent, action: str, *, lock: bool = True
    ) -> Ticket:
        ticket = await TicketStore(uow).ticket(ticket_id, lock=lock)
        if ticket is None:
            self.metrics.desk_actions.labels(action, "not_found").inc()
            raise HTTPException(status_code=404, detail="no such ticket")
        if not may_see(agent, ticket):
            self.metrics.desk_actions.labels(action, "forbidden").inc()
            raise HTTPException(status_code=403, detail="this ticket belongs to a brand you do not work for")
        return ticket

    def decide(self, action: str, transition: Callable[[], T]) -> T:
        try:
            return transition()
        except Forbidden as exc:
            self.metrics.desk_actions.labels(action, "forbidden").inc()
            raise HTTPException(status_code=403, detail=exc.reason) from None
        except Unprocessable as exc:
            self.metrics.desk_actions.labels(action, "invalid").inc()
            raise HTTPException(status_code=422, detail=exc.reason) from None
        except DomainError as exc:
            self.metrics.desk_actions.labels(action, "conflict").inc()
            raise HTTPException(status_code=409, detail=exc.reason) from None

    async def apply(self, uow: UnitOfWork, step: Step) -> None:
        """Save the ticket, emit the events, write their history lines."""
        await TicketStore(uow).save([step.ticket])
        for event in step.events:
            uow.emit(event)
        await DeskStore(uow).add_history(history_rows(step.events))

    async def post(
        self,
        request: Request,
        agent: Agent,
        action: str,
        body: Any,
        work: Callable[[UnitOfWork], Awaitable[Outcome]],
    ) -> JSONResponse:
        """Run ``work`` in one unit of work under the request's ``Idempotency-Key``.

        The same key with the same request answers what the first one did (and acts once);
        the same key with a different request is refused (422) with the reason.
        """
        key = request.headers.get("idempotency-key")
        if key is not None and not 1 <= len(key) <= 200:
            raise HTTPException(status_code=422, detail="Idempotency-Key must be 1 to 200 characters")
        payload = body.model_dump(mode="json") if hasattr(body, "model_dump") else body
        fingerprint = hashlib.sha256(
            orjson.dumps([request.method, api_path(request.url.path), payload], option=orjson.OPT_SORT_KEYS)
        ).hexdigest()
        try:
            return await retried(lambda: self._post_once(agent, action, key, fingerprint, work))
        except HTTPException:
            raise
        except Exception as exc:
            # a deadlock or serialization failure was retried at once; the database away is
            # 503 with Retry-After, never a bare 500
            if not is_transient(exc):
                raise
            self.metrics.desk_actions.labels(action, "unavailable").inc()
            raise unavailable() from None

    async def _post_once(
        self,
        agent: Agent,
        action: str,
        key: str | None,
        fingerprint: str,
        work: Callable[[UnitOfWork], Awaitable[Outcome]],
    ) -> JSONResponse:
        async with self.uow_factory() as uow:
            store = DeskStore(uow)
            if key is not None:
                prior = await store.remembered(agent.id, key)
                if prior is not None:
                    if prior["fingerprint"] != fingerprint:
                        self.metrics.desk_actions.labels(action, "key_reused").inc()
                        raise HTTPException(
                            status_code=422,
                            detail="this Idempotency-Key was already used for a different request; "
                            "use a new key for a new request",
                        )
                    self.metrics.desk_actions.labels(action, "replayed").inc()
                    return JSONResponse(
                        status_code=prior["status_code"],
                        content=prior["body"],
                        headers={"Idempotent-Replayed": "true"},
                    )
            status, content = await work(uow)
            content = plain(content)
            if key is not None:
                await store.remember(
                    agent.id,
                    key,
                    fingerprint=fingerprint,
                    status_code=status,
                    body=content,
                    at=self.clock.now(),
                )
            await uow.commit()
        self.metrics.desk_actions.labels(action, "done").inc()
        return JSONResponse(status_code=status, content=content)


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
