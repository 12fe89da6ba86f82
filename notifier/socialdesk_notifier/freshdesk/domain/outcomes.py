"""What an answer from Freshdesk means for an operation: done, retry (when), failed, or
the brand's connector paused (a wrong API key, a deleted group: no retry storm).

Lease discipline as the notifier's deliveries (``socialdesk_notifier.domain.delivery``):
an op is leased before its call; an answer that never came (timeout, cut connection,
5xx) or a lease that ran out leaves the op *ambiguous*, and the next attempt of a create
or a note first looks for what the earlier one may have made. Updates are idempotent
(a PUT of the same fields) and never need to look.

Usage::

    decision = decide(op, Answer(status=201, body={"id": 7}), now=now, max_age=timedelta(hours=24))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from socialdesk_notifier.freshdesk.domain.ops import Op

__all__ = ["Answer", "Decision", "Done", "Failed", "Paused", "Retry", "backoff", "decide", "error_text"]

ERROR_LIMIT = 2000
#: A 429 without Retry-After: Freshdesk's window is a minute.
DEFAULT_RETRY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class Answer:
    """One call's answer; ``status`` None when none came (timeout, connection cut)."""

    status: int | None
    body: Any = None
    retry_after: float | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Done:
    ref: str | None
    at: datetime
    body: Any = None
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class Retry:
    error: str
    not_before: datetime
    ambiguous: bool = False
    throttled: bool = False


@dataclass(frozen=True, slots=True)
class Failed:
    error: str


@dataclass(frozen=True, slots=True)
class Paused:
    """The brand's connector stops until ``until``; the op waits (not an attempt)."""

    reason: str  # auth | group
    error: str
    until: datetime


Decision = Done | Retry | Failed | Paused


def backoff(attempts: int) -> float:
    """1, 2, 4 … capped at 5 minutes."""
    return float(min(300, 2 ** max(0, attempts - 1)))


def error_text(answer: Answer) -> str:
    """Freshdesk's error body (``description`` and ``errors[]``) in one line."""
    body = answer.body
    if isinstance(body, dict):
        parts = [str(body.get("description") or body.get("message") or "")]
        for err in body.get("errors") or []:
            if isinstance(err, dict):
                parts.append(f"{err.get('field')}: {err.get('message')} ({err.get('code')})")
        text = "; ".join(p for p in parts if p)
    else:
        text = answer.error or str(body or "")
    return f"HTTP {answer.status}: {text}"[:ERROR_LIMIT] if answer.status else text[:ERROR_LIMIT]


def _group_refused(answer: Answer) -> bool:
    body = answer.body
    if not isinstance(body, dict):
        return False
    return any(isinstance(e, dict) and e.get("field") == "group_id" for e in body.get("errors") or [])


def decide(op: Op, answer: Answer, *, now: datetime, max_age: timedelta, pause: timedelta) -> Decision:
    status = answer.status
    if status is not None and 200 <= status < 300:
        ref = answer.body.get("id") if isinstance(answer.body, dict) else None
        return Done(None if ref is None else str(ref), now, answer.body)
    if status == 429:
        wait = answer.retry_after if answer.retry_after is not None else DEFAULT_RETRY_AFTER
        return Retry(error_text(answer), now + timedelta(seconds=wait), throttled=True)
    if status in (401, 403):
        return Paused("auth", error_text(answer), now + pause)
    if status in (400, 404) and _group_refused(answer):
        return Paused("group", error_text(answer), now + pause)
    if status is not None and 400 <= status < 500:
        # The request itself is wrong (validation) or its ticket is gone: no retry fixes it.
        return Failed(error_text(answer))
    if now - op.created_at >= max_age:
        return Failed(f"given up after {max_age}: {error_text(answer)}")
    # No answer or a 5xx: a create or a note may have been made all the same.
    return Retry(
        error_text(answer),
        now + timedelta(seconds=backoff(op.attempts)),
        ambiguous=op.kind in ("create", "note"),
    )
