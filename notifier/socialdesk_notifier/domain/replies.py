"""A reply to a customer, planned within its platform's rules: which call, in how many
parts, under which messaging window, or refused with a clear reason before any call.

Pure: the customer's last message time and ``now`` come in, HTTP calls go out as plain
data (:class:`PlannedCall`) for the sender to make.

Usage::

    plan = plan_reply(reply, account, last_customer_at=seen, now=now)
    if isinstance(plan, Refusal): ...      # DeliveryFailed(reason=plan.reason)
    for call in plan.calls: ...            # POST call.path with call.body
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from socialdesk_runtime.config import Brand

__all__ = [
    "HUMAN_AGENT_WINDOW",
    "RESPONSE_WINDOW",
    "PlannedCall",
    "Refusal",
    "ReplyPlan",
    "ReplyRequest",
    "delivery_key",
    "plan_reply",
    "split_text",
    "text_sha",
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


def _window_mode(
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


def _parts(request: ReplyRequest, limit_key: tuple[str, str]) -> list[str] | Refusal:
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


def _no_account(request: ReplyRequest) -> Refusal:
    return Refusal("no_account", f"brand {request.brand!r} has no {request.platform} account configured")


def plan_reply(
    request: ReplyRequest, brand: Brand, *, last_customer_at: datetime | None, now: datetime, version: str
) -> ReplyPlan | Refusal:
    """The calls that deliver ``request`` for ``brand``, or why none will be made."""
    match (request.platform, request.kind):
        case ("messenger", _) | ("facebook", "dm"):
            return _messenger(request, brand, last_customer_at, now, version)
        case ("facebook", _):
            return _facebook_comment(request, brand, version)
        case ("instagram", "dm"):
            return _instagram_dm(request, brand, last_customer_at, now, version)
        case ("instagram", _):
            return _instagram_comment(request, brand, version)
        case ("whatsapp", _):
            return _whatsapp(request, brand, last_customer_at, now, version)
        case ("x", "dm"):
            return _x_dm(request, brand)
        case ("x", _):
            return _x_mention(request, brand)
    return Refusal("unsupported", f"no send API for {request.platform} {request.kind}")


def _messaging_body(recipient: str, text: str, mode: Mode, key: str) -> dict[str, Any]:
    body: dict[str, Any] = {"recipient": {"id": recipient}, "message": {"text": text, "metadata": key}}
    if mode == "HUMAN_AGENT":
        body |= {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    else:
        body["messaging_type"] = "RESPONSE"
    return body


def _messaging_call(path: str, request: ReplyRequest, text: str, mode: Mode, part: int) -> PlannedCall:
    key = delivery_key(request.reply_id, part)
    return PlannedCall("graph", path, _messaging_body(request.recipient, text, mode, key), key, text)


def _messenger(
    request: ReplyRequest, brand: Brand, last: datetime | None, now: datetime, version: str
) -> ReplyPlan | Refusal:
    account = brand.accounts.facebook
    if account is None:
        return _no_account(request)
    mode = _window_mode(request, last, now, human_agent_tag=account.human_agent_tag)
    if isinstance(mode, Refusal):
        return mode
    parts = _parts(request, ("messenger", "dm"))
    if isinstance(parts, Refusal):
        return parts
    path = f"/{version}/{account.page_id}/messages"
    calls = [_messaging_call(path, request, text, mode, i) for i, text in enumerate(parts)]
    return ReplyPlan(calls, mode, account.page_id, account.page_token_env)


def _facebook_comment(request: ReplyRequest, brand: Brand, version: str) -> ReplyPlan | Refusal:
    account = brand.accounts.facebook
    if account is None:
        return _no_account(request)
    if not request.in_reply_to:
        return Refusal("no_comment", "a comment reply needs the customer's comment id")
    key = delivery_key(request.reply_id)
    if account.private_comment_replies:
        parts = _parts(request, ("facebook", "private_reply"))
        if isinstance(parts, Refusal):
            return parts
        body = {
            "recipient": {"comment_id": request.in_reply_to},
            "message": {"text": parts[0], "metadata": key},
        }
        call = PlannedCall("graph", f"/{version}/{account.page_id}/messages", body, key, parts[0])
        return ReplyPlan([call], "private_reply", account.page_id, account.page_token_env)
    parts = _parts(request, ("facebook", "comment"))
    if isinstance(parts, Refusal):
        return parts
    call = PlannedCall(
        "graph", f"/{version}/{request.in_reply_to}/comments", {"message": parts[0]}, key, parts[0]
    )
    return ReplyPlan([call], "public", account.page_id, account.page_token_env)


def _instagram_dm(
    request: ReplyRequest, brand: Brand, last: datetime | None, now: datetime, version: str
) -> ReplyPlan | Refusal:
    account = brand.accounts.instagram
    if account is None:
        return _no_account(request)
    mode = _window_mode(request, last, now, human_agent_tag=account.human_agent_tag)
    if isinstance(mode, Refusal):
        return mode
    parts = _parts(request, ("instagram", "dm"))
    if isinstance(parts, Refusal):
        return parts
    path = f"/{version}/{account.account_id}/messages"
    calls = [_messaging_call(path, request, text, mode, i) for i, text in enumerate(parts)]
    return ReplyPlan(calls, mode, account.account_id, account.access_token_env)


def _instagram_comment(request: ReplyRequest, brand: Brand, version: str) -> ReplyPlan | Refusal:
    account = brand.accounts.instagram
    if account is None:
        return _no_account(request)
    if not request.in_reply_to:
        return Refusal("no_comment", "a comment reply needs the customer's comment id")
    parts = _parts(request, ("instagram", "comment"))
    if isinstance(parts, Refusal):
        return parts
    key = delivery_key(request.reply_id)
    call = PlannedCall(
        "graph", f"/{version}/{request.in_reply_to}/replies", {"message": parts[0]}, key, parts[0]
    )
    return ReplyPlan([call], "public", account.account_id, account.access_token_env)


def _whatsapp(
    request: ReplyRequest, brand: Brand, last: datetime | None, now: datetime, version: str
) -> ReplyPlan | Refusal:
    account = brand.accounts.whatsapp
    if account is None:
        return _no_account(request)
    path = f"/{version}/{account.phone_number_id}/messages"
    base: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": request.recipient,
    }
    if not request.text.strip():
        return Refusal("empty_text", "the reply has no text")
    if last is not None and now - last > RESPONSE_WINDOW:
        template = account.out_of_window_template
        if template is None:
            return Refusal(
                "window_closed",
                "outside WhatsApp's 24 h customer-service window and no out_of_window_template is configured",
            )
        values = {"reply_text": request.text.strip(), "brand_name": brand.name}
        parameters = [{"type": "text", "text": values.get(p, p)} for p in template.parameters]
        key = delivery_key(request.reply_id)
        body = base | {
            "type": "template",
            "biz_opaque_callback_data": key,
            "template": {
                "name": template.name,
                "language": {"code": template.language},
                "components": [{"type": "body", "parameters": parameters}] if parameters else [],
            },
        }
        return ReplyPlan(
            [PlannedCall("graph", path, body, key, request.text.strip())],
            "template",
            account.phone_number_id,
            account.access_token_env,
        )
    parts = _parts(request, ("whatsapp", "dm"))
    if isinstance(parts, Refusal):
        return parts
    calls = []
    for i, text in enumerate(parts):
        key = delivery_key(request.reply_id, i)
        body = base | {
            "type": "text",
            "biz_opaque_callback_data": key,
            "text": {"preview_url": False, "body": text},
        }
        if i == 0 and request.in_reply_to:
            body["context"] = {"message_id": request.in_reply_to}
        calls.append(PlannedCall("graph", path, body, key, text))
    return ReplyPlan(calls, "RESPONSE", account.phone_number_id, account.access_token_env)


def _x_dm(request: ReplyRequest, brand: Brand) -> ReplyPlan | Refusal:
    account = brand.accounts.x
    if account is None:
        return _no_account(request)
    if not request.recipient.isdigit():
        return Refusal("invalid_recipient", "an X DM needs the numeric user id of the recipient")
    parts = _parts(request, ("x", "dm"))
    if isinstance(parts, Refusal):
        return parts
    path = f"/2/dm_conversations/with/{request.recipient}/messages"
    calls = [
        PlannedCall("x", path, {"text": text}, delivery_key(request.reply_id, i), text)
        for i, text in enumerate(parts)
    ]
    return ReplyPlan(calls, "RESPONSE", account.user_id, account.bearer_token_env)


def _x_mention(request: ReplyRequest, brand: Brand) -> ReplyPlan | Refusal:
    account = brand.accounts.x
    if account is None:
        return _no_account(request)
    if not request.in_reply_to or not request.in_reply_to.isdigit():
        return Refusal("no_comment", "a reply post needs the id of the customer's post")
    parts = _parts(request, ("x", "mention"))
    if isinstance(parts, Refusal):
        return parts
    body = {"text": parts[0], "reply": {"in_reply_to_tweet_id": request.in_reply_to}}
    return ReplyPlan(
        [PlannedCall("x", "/2/tweets", body, delivery_key(request.reply_id), parts[0])],
        "public",
        account.user_id,
        account.bearer_token_env,
    )
