"""The rules of a desk session (decision 0304): when a sign-in to the desk's pages has ended,
when its last use is worth writing down, and what of its secret the desk keeps.

The browser holds a random secret; the desk keeps only its SHA-256 (a copy of the table
signs nobody in) and an HMAC of the agent's token keyed by that secret, so a session ends
when the agent's token is changed, while the table says nothing about the token to whoever
reads it without the secret.

Usage::

    limits = SessionLimits(idle=timedelta(hours=12), lifetime=timedelta(days=7))
    refusal(created_at=t0, last_seen_at=t1, revoked_at=None, now=t2, limits=limits)  # None: valid
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = ["Refusal", "SessionLimits", "refusal", "secret_hash", "token_binding"]

#: Why a session is no longer accepted: signed out (or replaced by a sign-in), or too old.
Refusal = Literal["revoked", "expired"]

#: At most this long between two writes of a session's last use (a page polls every few
#: seconds: writing each would be a row update per poll).
_TOUCH_AT_MOST = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimits:
    """How long a session lasts: ``idle`` since its last use, ``lifetime`` since sign-in."""

    idle: timedelta
    lifetime: timedelta

    def expires_at(self, *, created_at: datetime, last_seen_at: datetime) -> datetime:
        return min(last_seen_at + self.idle, created_at + self.lifetime)

    def due_for_touch(self, *, last_seen_at: datetime, now: datetime) -> bool:
        """Whether a use at ``now`` is worth writing down: its last use is older than a
        minute, or than a twentieth of the idle time when that is shorter (so a session
        never ends idle while in use by more than 5 % of that time)."""
        return now - last_seen_at >= min(_TOUCH_AT_MOST, self.idle / 20)


def refusal(
    *,
    created_at: datetime,
    last_seen_at: datetime,
    revoked_at: datetime | None,
    now: datetime,
    limits: SessionLimits,
) -> Refusal | None:
    """Why the session is refused at ``now``, or ``None`` while it is valid. The limits are
    today's configuration, so shortening them takes effect at once for every session."""
    if revoked_at is not None:
        return "revoked"
    if now >= limits.expires_at(created_at=created_at, last_seen_at=last_seen_at):
        return "expired"
    return None


def secret_hash(secret: str) -> str:
    """What the desk stores of a session's secret: its SHA-256, hex (the table's key). The
    secret is 32 random bytes, so no salt or slow hash is needed to keep it unguessable."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_binding(secret: str, token: str) -> str:
    """Ties a session to the agent's token at sign-in without storing anything that would
    let a reader of the table test guesses of the token (the key is the browser's secret)."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
