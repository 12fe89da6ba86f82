"""The assigner's rules on plain data: the ticket's state machine, desk actions, routing,
presence, approvals, permissions, saved replies. No framework, no I/O; time is passed in."""

from socialdesk_assigner.domain.errors import (
    AlreadyResolved,
    DomainError,
    Forbidden,
    InvalidTransition,
    Unprocessable,
)
from socialdesk_assigner.domain.permissions import check_may_act, may_see
from socialdesk_assigner.domain.replies import auto_reply_text
from socialdesk_assigner.domain.routing import Rotation, route, working_agents
from socialdesk_assigner.domain.ticket import Step, Ticket, claim, reply, reply_id_for, resolve

__all__ = [
    "AlreadyResolved",
    "DomainError",
    "Forbidden",
    "InvalidTransition",
    "Rotation",
    "Step",
    "Ticket",
    "Unprocessable",
    "auto_reply_text",
    "check_may_act",
    "claim",
    "may_see",
    "reply",
    "reply_id_for",
    "resolve",
    "route",
    "working_agents",
]
