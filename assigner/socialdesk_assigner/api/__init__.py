"""The desk API agents work tickets through (OpenAPI at ``/docs``).

Each route is thin: authenticate the agent by token, load through the store, let the
domain decide (its refusals become 403, 409 and 422 with the reason), save, emit, all in
one unit of work; every POST honours ``Idempotency-Key``. The desk's pages call the same
routes under ``/desk/v1`` with their session cookie (``api.cookie``).
"""

from __future__ import annotations

from fastapi import APIRouter

from socialdesk_assigner.api.actions import action_routes
from socialdesk_assigner.api.common import AgentLookup, Desk, agent_tokens
from socialdesk_assigner.api.replies import reply_routes
from socialdesk_assigner.api.reports import report_routes
from socialdesk_assigner.api.views import view_routes

__all__ = ["AgentLookup", "Desk", "agent_tokens", "desk_router"]


def desk_router(desk: Desk, *, prefix: str = "/v1", documented: bool = True) -> APIRouter:
    router = APIRouter(prefix=prefix, include_in_schema=documented)
    view_routes(router, desk)
    action_routes(router, desk)
    reply_routes(router, desk)
    report_routes(router, desk)
    return router
