"""An incoming message as every source hands it to ingest: normalised on construction.

A source's parser (the generic intake API today, the platforms' webhooks next) builds an
:class:`IncomingMessage`; everything after works on it alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialdesk_schemas import Kind, Platform

__all__ = [
    "MAX_TEXT_CHARS",
    "CustomerKey",
    "IncomingAuthor",
    "IncomingMessage",
    "MessageKey",
    "clean_text",
    "cleaned",
    "normalise_phone",
]

MAX_TEXT_CHARS = 64_000

MessageKey = tuple[str, str, str]
"""(brand, platform, platform_message_id): a message's identity; a second one is a resend."""
CustomerKey = tuple[str, str, str]
"""(brand, platform, platform_user_id): one customer as one platform knows them."""

_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Text as PostgreSQL and every consumer can hold it.

    Platforms send lone UTF-16 surrogates (a split emoji) and control characters; a NUL
    cannot be stored in PostgreSQL text at all. Replace rather than refuse: the customer's
    message must not be lost over one broken character.
    """
    value = _SURROGATES.sub("\ufffd", value)
    return _CONTROL.sub("", value)


def cleaned(value: Any) -> Any:
    """A decoded JSON value with every string (keys too) :func:`clean_text`-ed: what every
    parser reads, so no field (an edit's text, an echo, a status's error title, a URL) can
    carry half an emoji or a NUL into the database or an event."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [cleaned(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: cleaned(v) for k, v in value.items()}
    return value


def normalise_phone(value: str | None) -> str | None:
    """A phone number as digits with the country code (``+44 7700 900123`` → ``447700900123``);
    ``None`` if it has too few digits to be one."""
    if value is None:
        return None
    digits = re.sub(r"\D", "", value)
    if digits.startswith("00"):
        digits = digits[2:]
    return digits if 7 <= len(digits) <= 15 else None


def _clean(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


@dataclass(frozen=True, slots=True)
class IncomingAuthor:
    """Who wrote an incoming message; text fields are cleaned on construction."""

    platform_user_id: str
    handle: str | None = None
    display_name: str | None = None
    followers: int | None = None
    phone: str | None = None
    """Digits only, country code first (a WhatsApp ``wa_id``, or what a source knows)."""
    alias: str | None = None
    """Another id of the same person on the platform (WhatsApp: their business-scoped id)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "platform_user_id", clean_text(self.platform_user_id))
        object.__setattr__(self, "phone", normalise_phone(self.phone))
        object.__setattr__(self, "handle", _clean(self.handle))
        object.__setattr__(self, "display_name", _clean(self.display_name))


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One customer message from any source, normalised on construction.

    The brand id is trimmed and lower-cased and every text field is :func:`clean_text`-ed,
    so a source's parser cannot forget to.

    Usage::

        IncomingMessage(brand="OurBus", platform="x", kind="dm", platform_message_id="m1",
                        author=IncomingAuthor("u1", handle="ana"), text="late \\ud83d")
    """

    brand: str
    platform: Platform
    kind: Kind
    platform_message_id: str
    author: IncomingAuthor
    text: str
    sent_at: datetime | None = None
    in_reply_to: str | None = None
    thread_root: str | None = None
    """A public thread (a top-level comment and its replies, a tweet and its replies) this
    message belongs to; ``None`` for DMs and for sources that know no threads."""
    attachments: tuple[tuple[str, str | None, str | None], ...] = ()
    """(type, platform id, url) of each attachment; the text already renders them readably."""
    in_reply_to_author: str | None = None
    """Who wrote the message this one answers, when the platform says (X): a reply to one's
    own earlier post stays in its thread even when that post is not stored yet."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "brand", self.brand.strip().lower())
        object.__setattr__(self, "thread_root", _clean(self.thread_root))
        object.__setattr__(self, "platform_message_id", clean_text(self.platform_message_id))
        object.__setattr__(self, "text", clean_text(self.text))
        object.__setattr__(self, "in_reply_to", _clean(self.in_reply_to))

    @property
    def key(self) -> MessageKey:
        return (self.brand, self.platform, self.platform_message_id)

    @property
    def customer_key(self) -> CustomerKey:
        return (self.brand, self.platform, self.author.platform_user_id)
