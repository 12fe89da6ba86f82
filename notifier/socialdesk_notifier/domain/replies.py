"""A reply to a customer within its platform's rules: limits, parts, messaging windows,
the keys we attach; :mod:`socialdesk_notifier.domain.planning` turns them into calls.

Pure: the customer's last message time and ``now`` come in, HTTP calls go out as plain
data (:class:`PlannedCall`) for the sender to make.

Usage::

    request = ReplyRequest.from_payload(delivery.channel, delivery.destination, delivery.payload)
    parts = reply_parts(request, ("messenger", "dm"))   # list[str] | Refusal
    mode = window_mode(request, last_customer_at, now, human_agent_tag=True)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

__all__ = [
    "HUMAN_AGENT_WINDOW",
    "RESPONSE_WINDOW",
    "PlannedCall",
    "Refusal",
    "ReplyPlan",
    "ReplyRequest",
    "delivery_key",
    "no_account",
    "reply_parts",
    "split_text",
    "text_sha",
    "window_mode",
]

#: Messenger, Instagram and WhatsApp: free-form messages within 24 h of the customer's last one.
RESPONSE_WINDOW: Final = timedelta(hours=24)
#: Messenger and Instagram: a human agent's reply with the HUMAN_AGENT tag up to 7 days.
HUMAN_AGENT_WINDOW: Final = timedelta(days=7)

Api = Literal["graph", "x"]
Mode = Literal["RESPONSE", "HUMAN_AGENT", "template", "public", "private_reply"]


@dataclass(frozen=True, slots=True)
class Limit:
    chars: int
    #: The platform accepts several messages in a row: a long text goes in parts.
    splittable: bool


# api-notes §1.2–1.7: Messenger text < 2000, WhatsApp body ≤ 4096, a tweet 280 (X counts
# weighted characters; code points are the safe approximation), IG DMs 1000, comments 8000/2200.
LIMITS: Final[dict[tuple[str, str], Limit]] = {
    ("messenger", "dm"): Limit(1999, splittable=True),
    ("facebook", "comment"): Limit(8000, splittable=False),
    ("facebook", "private_reply"): Limit(1999, splittable=False),
    ("instagram", "dm"): Limit(1000, splittable=True),
    ("instagram", "comment"): Limit(2200, splittable=False),
    ("whatsapp", "dm"): Limit(4096, splittable=True),
    ("x", "dm"): Limit(10000, splittable=True),
    ("x", "mention"): Limit(280, splittable=False),
}
#: Parts of one reply at most: a wall of messages is worse than a refusal.
MAX_PARTS: Final = 5


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    """What the notifier stored of a ``ReplyRequested`` (the delivery's payload)."""

    reply_id: str
    brand: str
    platform: str
    kind: str
    recipient: str
    text: str
    in_reply_to: str | None
    origin: str

    @classmethod
    def from_payload(cls, platform: str, recipient: str, payload: dict[str, Any]) -> ReplyRequest:
        return cls(
            reply_id=str(payload["reply_id"]),
            brand=str(payload["brand"]),
            platform=platform,
            kind=str(payload.get("kind") or "dm"),
            recipient=recipient,
            text=str(payload.get("text") or ""),
            in_reply_to=payload.get("in_reply_to"),
            origin=str(payload.get("origin") or "agent"),
        )


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One POST to a platform: ``path`` under the API's base URL, a JSON ``body``."""

    api: Api
    path: str
    body: dict[str, Any]
    #: What the platform echoes back of this part ("sd:<reply_id>", "#<n>" after the first).
    key: str
    #: The customer-visible text of this part (matched against echoes that carry no key).
    text: str = ""


@dataclass(frozen=True, slots=True)
class ReplyPlan:
    calls: list[PlannedCall]
    mode: Mode
    #: The platform account that sends (page, IG account, phone number or X user id): what is paced.
    account: str
    token_env: str | None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Not sent, and no retry will change that: the reason goes into ``DeliveryFailed``."""

    reason: str
    detail: str


def delivery_key(reply_id: str, part: int = 0) -> str:
    """The metadata attached to part ``part`` of a reply, echoed back by the platform."""
    return f"sd:{reply_id}" if part == 0 else f"sd:{reply_id}#{part + 1}"


def text_sha(text: str) -> str:
    """How a message we sent is matched to its echo by text (the text itself is not kept)."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


_SENTENCE_END = re.compile(r"[.!?。！？\n]\s")
_SPACE = re.compile(r"\s")


def _last_cut(pattern: re.Pattern[str], window: str, limit: int) -> int:
    """The end of the last match of ``pattern`` inside ``window`` (at most ``limit``), or 0."""
    cut = 0
    for match in pattern.finditer(window):
        end = match.start() + 1
        if end <= limit:
            cut = end
    return cut


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` characters: at the last sentence end in
    the second half of a part, else at the last space, else hard (scripts without spaces)."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = _last_cut(_SENTENCE_END, window, limit)
        if cut < limit // 2:
            cut = _last_cut(_SPACE, window, limit)
        if cut < limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def window_mode(
    request: ReplyRequest, last_customer_at: datetime | None, now: datetime, *, human_agent_tag: bool
) -> Mode | Refusal:
    """RESPONSE inside 24 h, HUMAN_AGENT (human replies, where allowed) inside 7 days."""
    if last_customer_at is None:
        # Not seen by this notifier (e.g. older than its history): let the platform judge.
        return "RESPONSE"
    age = now - last_customer_at
    if age <= RESPONSE_WINDOW:
        return "RESPONSE"
    if age <= HUMAN_AGENT_WINDOW and request.origin == "agent" and human_agent_tag:
        return "HUMAN_AGENT"
    hours = age.total_seconds() / 3600
    return Refusal(
        "window_closed",
        f"the customer's last message is {hours:.0f} h old: outside the 24 h window"
        + (" and the 7-day human-agent window" if request.origin == "agent" else " (auto-replies get 24 h)"),
    )


def reply_parts(request: ReplyRequest, limit_key: tuple[str, str]) -> list[str] | Refusal:
    text = request.text.strip()
    if not text:
        return Refusal("empty_text", "the reply has no text")
    limit = LIMITS[limit_key]
    if len(text) <= limit.chars:
        return [text]
    if not limit.splittable:
        return Refusal(
            "too_long",
            f"{len(text)} characters; a {limit_key[0]} {limit_key[1]} reply allows {limit.chars} "
            "and cannot be split",
        )
    parts = split_text(text, limit.chars)
    if len(parts) > MAX_PARTS:
        return Refusal(
            "too_long", f"{len(text)} characters would take {len(parts)} messages (at most {MAX_PARTS})"
        )
    return parts


def no_account(request: ReplyRequest) -> Refusal:
    return Refusal("no_account", f"brand {request.brand!r} has no {request.platform} account configured")
