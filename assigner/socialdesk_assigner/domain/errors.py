"""Why the desk refuses a transition; the API maps each to its HTTP status."""

from __future__ import annotations

__all__ = ["AlreadyResolved", "DomainError", "Forbidden", "InvalidTransition", "Unprocessable"]


class DomainError(Exception):
    """A transition the rules refuse; ``reason`` is meant for the person who asked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Forbidden(DomainError):
    """This agent may not act on this ticket (HTTP 403)."""


class InvalidTransition(DomainError):
    """The ticket is in a state this transition does not start from (HTTP 409)."""


class AlreadyResolved(DomainError):
    """Resolving a resolved ticket: a retried request, answered as success with nothing to do."""


class Unprocessable(DomainError):
    """The request names something that does not exist or cannot be used (HTTP 422)."""
