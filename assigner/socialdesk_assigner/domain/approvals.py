"""Replies that need a second pair of eyes (seed 003: agent consistency, peer and supervisor
approval): which replies are held, and who may approve or reject one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialdesk_assigner.domain.errors import Forbidden, InvalidTransition
from socialdesk_assigner.domain.permissions import may_see, rank
from socialdesk_runtime.config import Agent
from socialdesk_runtime.config.desk import Approvals

if TYPE_CHECKING:
    from socialdesk_assigner.domain.ticket import Ticket

__all__ = ["check_may_review", "hold_reason"]


def hold_reason(rules: Approvals, author: Agent, ticket: Ticket) -> str | None:
    """Why a reply by ``author`` on ``ticket`` waits for approval; ``None``: it goes out now."""
    if author.id in rules.new_agents:
        return f"{author.name} is a new agent: replies are approved by a peer or supervisor"
    if ticket.category in rules.categories:
        return f"{ticket.category} tickets: replies are approved by a peer or supervisor"
    return None


def check_may_review(
    rules: Approvals, reviewer: Agent, *, author_id: str, ticket: Ticket, status: str
) -> None:
    """Raise unless ``reviewer`` may approve or reject a held reply by ``author_id``."""
    if status != "pending_approval":
        raise InvalidTransition(f"reply is {status}, not waiting for approval")
    if reviewer.id == author_id:
        raise InvalidTransition("you cannot approve or reject your own reply; a peer or supervisor must")
    if not may_see(reviewer, ticket):
        raise Forbidden("this ticket belongs to a brand you do not work for")
    if reviewer.id in rules.new_agents:
        raise Forbidden("new agents' own replies are approved; they do not approve others'")
    if rank(reviewer.level) < rank(rules.min_approver_level):
        raise Forbidden(f"approving replies needs level {rules.min_approver_level} or above")
