"""What a sender raises when it cannot yet say whether a delivery went out."""

from __future__ import annotations

__all__ = ["EchoPending", "LookupImpossible"]


class EchoPending(Exception):
    """An ambiguous platform send whose echo may still arrive: ask again later."""


class LookupImpossible(Exception):
    """The channel can never be asked (e.g. a token without ``channels:history``)."""
