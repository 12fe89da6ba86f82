"""What a platform delivery holds, normalised: the pure output of every webhook parser.

A parser turns one verified delivery (Meta's ``object``/``entry`` envelope, X's Account
Activity body) into a list of items. Each item is one of:

- :class:`CustomerMessage`: a customer wrote to a brand (a DM, a comment, a mention).
- :class:`OwnMessage`: an account of ours wrote (an echo of our send, or a person typing
  in the platform's own inbox).
- :class:`DeliveryFact`: a receipt for a message of ours (sent, delivered, read, failed).
- :class:`MessageChanged`: a customer edited or deleted a message already received.
- :class:`Ignored`: a well-formed item that is not ours to ticket (reactions, favourites,
  follows, typing, an unknown field), with the reason, for the metric.
- :class:`Skipped`: an item missing fields it needs; counted, and the rest of the
  delivery is still processed.

No I/O, no clock: timestamps come from the delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from socialdesk_schemas import Kind, Platform

DeliveryStatus = Literal["sent", "delivered", "read", "failed", "played", "deleted"]


@dataclass(frozen=True, slots=True)
class Attachment:
    type: str
    id: str | None = None
    url: str | None = None
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    platform_user_id: str
    handle: str | None = None
    display_name: str | None = None
    followers: int | None = None
    alias: str | None = None
    """Another id of the same person on the platform (WhatsApp: the business-scoped id of a
    user also known by phone, what they are known by once they hide their number)."""


#: The prefix of a placeholder author's id (``unknown:<message id>``).
_UNIDENTIFIED = "unknown:"


def unidentified(message_id: str) -> Person:
    """The author of a message the platform delivered without one (an Instagram mention, a
    comment whose ``from`` Meta withheld): a placeholder of that message alone, so two
    unknown people never become one customer. Enrichment names them when it can."""
    return Person(f"{_UNIDENTIFIED}{message_id}")


def is_unidentified(platform_user_id: str) -> bool:
    """Whether a user id is the placeholder :func:`unidentified` gave a message's author."""
    return platform_user_id.startswith(_UNIDENTIFIED)


@dataclass(frozen=True, slots=True)
class CustomerMessage:
    platform: Platform
    kind: Kind
    account_id: str
    """Our account the message was written to (page id, IG account id, phone number id, X user id)."""
    platform_message_id: str
    author: Person
    text: str
    sent_at: datetime | None
    in_reply_to: str | None = None
    """The platform id of the message, comment or post this one answers."""
    thread_root: str | None = None
    """The post a comment belongs to: comments on one post by one author share a thread."""
    attachments: tuple[Attachment, ...] = ()
    needs_enrichment: bool = False
    """Only ids arrived (an Instagram mention, a Facebook post mention): author and text
    must be read from the Graph API; the message is ticketed with what is known meanwhile."""
    raw_kind: str = ""
    """What the platform called it (``messages``, ``feed``, ``comments``, ``postback``...)."""
    in_reply_to_author: str | None = None
    """Who wrote the message this one answers, when the platform says (X)."""


@dataclass(frozen=True, slots=True)
class OwnMessage:
    """A message from one of our accounts, seen coming back through the webhook."""

    platform: Platform
    kind: Kind
    account_id: str
    platform_message_id: str
    recipient_id: str | None
    text: str
    sent_at: datetime | None
    app_id: str | None = None
    metadata: str | None = None
    """What we attached when sending (our delivery key), when the platform echoes it."""
    typed_in_platform_inbox: bool = False
    """A person answered in Meta's or X's own inbox, not through socialdesk."""
    in_reply_to: str | None = None
    """The public message this one answers, when the platform says (our tweet's parent, our
    comment's parent comment or post, our Instagram comment's parent comment or media)."""


@dataclass(frozen=True, slots=True)
class DeliveryFact:
    platform: Platform
    account_id: str
    status: DeliveryStatus
    at: datetime | None
    platform_message_ids: tuple[str, ...] = ()
    watermark: datetime | None = None
    """Messenger/IG receipts may name no message: everything sent before this is covered."""
    recipient_id: str | None = None
    error_code: int | None = None
    error_title: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True, slots=True)
class MessageChanged:
    platform: Platform
    account_id: str
    platform_message_id: str
    change: Literal["edited", "deleted"]
    at: datetime | None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Ignored:
    platform: Platform | Literal["unknown"]
    reason: str
    account_id: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    platform: Platform | Literal["unknown"]
    reason: str
    detail: str = ""


Item = CustomerMessage | OwnMessage | DeliveryFact | MessageChanged | Ignored | Skipped


@dataclass(slots=True)
class Parsed:
    """Every item of one delivery, in delivery order."""

    items: list[Item] = field(default_factory=list)

    def add(self, item: Item) -> None:
        self.items.append(item)


class MissingField(ValueError):
    """An item lacks a field it cannot do without: it is skipped, not the delivery."""


def from_ms(value: object) -> datetime | None:
    """Epoch milliseconds (int or numeric string) as an aware UTC datetime."""
    n = _number(value)
    return None if n is None else datetime.fromtimestamp(n / 1000, tz=UTC)


def from_s(value: object) -> datetime | None:
    """Epoch seconds (int or numeric string) as an aware UTC datetime."""
    n = _number(value)
    return None if n is None else datetime.fromtimestamp(n, tz=UTC)


def from_s_or_ms(value: object) -> datetime | None:
    """Seconds or milliseconds, told apart by size (feed ``entry.time`` comes as both)."""
    n = _number(value)
    if n is None:
        return None
    return datetime.fromtimestamp(n / 1000 if n > 10**11 else n, tz=UTC)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        n = float(value)
    elif isinstance(value, str) and value.strip().isdigit():
        n = float(value.strip())
    else:
        return None
    # Beyond year 9999 in ms, or negative: not a timestamp we can hold.
    return n if 0 <= n < 253_402_300_800_000 else None


def text_of(value: object) -> str:
    return value if isinstance(value, str) else ""


def str_id(value: object) -> str | None:
    """An id as a string: platforms send ids as strings, sometimes as JSON numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def require_id(value: object, name: str) -> str:
    got = str_id(value)
    if got is None:
        raise MissingField(f"{name} missing")
    return got


def as_dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def render_attachments(attachments: tuple[Attachment, ...]) -> str:
    """A readable text for a message that is only media: ``[image]``, ``[location: 40.7,-74.0]``."""
    parts = []
    for a in attachments:
        label = a.caption or a.url or a.id
        parts.append(f"[{a.type}: {label}]" if label and a.type == "location" else f"[{a.type}]")
    return " ".join(parts)
