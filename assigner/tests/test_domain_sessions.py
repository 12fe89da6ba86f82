"""When a desk session ends, when its use is written down, what of its secret is kept (no IO)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from socialdesk_assigner.domain.sessions import SessionLimits, refusal, secret_hash, token_binding

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LIMITS = SessionLimits(idle=timedelta(hours=12), lifetime=timedelta(days=7))


def judged(*, last_seen: timedelta, now: timedelta, revoked: bool = False) -> str | None:
    """The refusal of a session signed in at T0, last used at T0 + last_seen, asked at T0 + now."""
    return refusal(
        created_at=T0,
        last_seen_at=T0 + last_seen,
        revoked_at=T0 + now if revoked else None,
        now=T0 + now,
        limits=LIMITS,
    )


def test_a_session_in_use_lasts_until_its_lifetime_and_not_a_second_longer() -> None:
    assert judged(last_seen=timedelta(0), now=timedelta(hours=11, minutes=59)) is None
    # used every few hours, it is still valid on day 6 ...
    assert judged(last_seen=timedelta(days=6, hours=20), now=timedelta(days=6, hours=23)) is None
    # ... and ends at 7 days whatever its last use
    assert judged(last_seen=timedelta(days=6, hours=23), now=timedelta(days=7)) == "expired"


def test_a_session_left_alone_for_the_idle_time_ends() -> None:
    assert judged(last_seen=timedelta(hours=1), now=timedelta(hours=13)) == "expired"
    assert judged(last_seen=timedelta(hours=1), now=timedelta(hours=12, minutes=59)) is None
    assert LIMITS.expires_at(created_at=T0, last_seen_at=T0 + timedelta(hours=1)) == T0 + timedelta(hours=13)
    assert LIMITS.expires_at(created_at=T0, last_seen_at=T0 + timedelta(days=6, hours=20)) == T0 + timedelta(
        days=7
    )


def test_a_signed_out_session_is_refused_as_such_even_while_young() -> None:
    assert judged(last_seen=timedelta(0), now=timedelta(seconds=1), revoked=True) == "revoked"


def test_its_use_is_written_down_about_once_a_minute_or_more_often_for_a_short_idle_time() -> None:
    seen = T0 + timedelta(hours=1)
    assert not LIMITS.due_for_touch(last_seen_at=seen, now=seen + timedelta(seconds=59))
    assert LIMITS.due_for_touch(last_seen_at=seen, now=seen + timedelta(seconds=60))
    short = SessionLimits(idle=timedelta(seconds=100), lifetime=timedelta(hours=1))
    assert short.due_for_touch(last_seen_at=seen, now=seen + timedelta(seconds=5))
    assert not short.due_for_touch(last_seen_at=seen, now=seen + timedelta(seconds=4))


def test_the_desk_keeps_neither_the_secret_nor_a_test_for_the_token() -> None:
    secret = secrets.token_urlsafe(32)
    kept = secret_hash(secret)
    assert len(kept) == 64 and secret not in kept and kept == secret_hash(secret)
    assert kept != secret_hash(secrets.token_urlsafe(32))
    # the binding changes with the token (a rotated token ends the session) and, keyed by
    # the browser's secret, is no function of the token alone
    assert token_binding(secret, "tok-ana") == token_binding(secret, "tok-ana")
    assert token_binding(secret, "tok-ana") != token_binding(secret, "tok-ana-rotated")
    assert token_binding(secret, "tok-ana") != token_binding(secrets.token_urlsafe(32), "tok-ana")
