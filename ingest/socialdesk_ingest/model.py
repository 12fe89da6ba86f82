"""The intake command and its normalisation (pure functions, no IO)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from socialdesk_schemas import Kind, Platform

_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

MAX_TEXT_CHARS = 64_000

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]


def clean_text(value: str) -> str:
    """Text as PostgreSQL and every consumer can hold it.

    Platforms send lone UTF-16 surrogates (a split emoji) and control characters; a NUL
    cannot be stored in PostgreSQL text at all. Replace rather than refuse: the customer's
    message must not be lost over one broken character.
    """
    value = _SURROGATES.sub("\ufffd", value)
    return _CONTROL.sub("", value)


class IntakeAuthor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    platform_user_id: Id
    handle: Annotated[str, StringConstraints(max_length=256)] | None = None
    display_name: Annotated[str, StringConstraints(max_length=256)] | None = None
    followers: int | None = Field(default=None, ge=0, le=2**31 - 1)  # the store's int4

    @field_validator("handle", "display_name", "platform_user_id", mode="before")
    @classmethod
    def _clean(cls, v: object) -> object:
        return clean_text(v) if isinstance(v, str) else v


class IntakeMessage(BaseModel):
    """``POST /v1/messages``: one customer message from any source."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    brand: Annotated[
        str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=64)
    ]
    platform: Platform
    kind: Kind
    platform_message_id: Id
    author: IntakeAuthor
    text: Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)]
    sent_at: AwareDatetime | None = None
    in_reply_to: Id | None = Field(default=None, description="platform id of the post or message replied to")

    # "before": pydantic refuses a str holding a lone surrogate, so clean it first.
    @field_validator("text", "platform_message_id", "in_reply_to", mode="before")
    @classmethod
    def _clean_text(cls, v: object) -> object:
        return clean_text(v) if isinstance(v, str) else v


def thread_key(msg: IntakeMessage) -> str:
    """Which conversation a message belongs to.

    A DM thread is the customer's private channel with the brand account; public comments
    and mentions by one author are one public conversation. Replies to a post by different
    authors are different conversations: each author is a different customer to answer.
    """
    scope = "dm" if msg.kind == "dm" else "public"
    return f"{scope}:{msg.author.platform_user_id}"


def is_idle(last_message_at: datetime, now: datetime, idle_seconds: float) -> bool:
    """A conversation silent for longer than the idle limit opens a new ticket."""
    return (now - last_message_at).total_seconds() > idle_seconds
