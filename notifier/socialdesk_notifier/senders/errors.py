"""What a sender raises when it cannot yet say whether a delivery went out."""

from __future__ import annotations

__all__ = ["EchoPending", "LookupImpossible", "LookupThrottled"]


class EchoPending(Exception):
    """An ambiguous platform send whose echo may still arrive: ask again later."""


class LookupImpossible(Exception):
    """The channel can never be asked (e.g. a token without ``channels:history``)."""


class LookupThrottled(Exception):
    """The lookup was rate limited: ask again after ``retry_after`` seconds, not a back-off."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
