"""Saved replies (seed 000's canned responses): which one answers a message, in which language,
which ones an agent may pick for a brand, and filling their placeholders."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from socialdesk_assigner.domain.errors import Unprocessable
from socialdesk_runtime.config import SavedReply, SocialdeskConfig

__all__ = ["SavedReplyView", "auto_reply_text", "fill", "saved_replies_for", "saved_reply_for", "text_in"]

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def saved_reply_for(saved: Mapping[str, SavedReply], key: str, *, brand: str) -> SavedReply | None:
    """The saved reply ``key`` if it exists and is meant for ``brand``, else ``None``."""
    reply = saved.get(key)
    if reply is None or (reply.brands is not None and brand not in reply.brands):
        return None
    return reply


def text_in(reply: SavedReply, language: str, *, fallback: str) -> str:
    """The text in ``language``, else its base language ("es-MX" → "es"), else ``fallback``,
    else the first one written."""
    for candidate in (language, language.split("-", 1)[0], fallback):
        if candidate in reply.text:
            return reply.text[candidate]
    return next(iter(reply.text.values()))


def auto_reply_text(config: SocialdeskConfig, key: str, *, brand: str, language: str) -> str | None:
    """What to answer with the classifier's proposed template ``key``; ``None`` if the brand
    has no such saved reply (the ticket then goes to an agent)."""
    reply = saved_reply_for(config.saved_replies, key, brand=brand)
    if reply is None:
        return None
    return text_in(reply, language, fallback=config.brand(brand).default_language)


@dataclass(frozen=True, slots=True)
class SavedReplyView:
    key: str
    title: str
    language: str
    text: str
    placeholders: tuple[str, ...]


def placeholders(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_PLACEHOLDER.findall(text)))


def saved_replies_for(
    config: SocialdeskConfig, *, brand: str, language: str | None = None
) -> list[SavedReplyView]:
    """The saved replies a brand's agents may use, each in ``language`` (or the brand's)."""
    lang = language or config.brand(brand).default_language
    out = []
    for key, reply in sorted(config.saved_replies.items()):
        if reply.brands is not None and brand not in reply.brands:
            continue
        text = text_in(reply, lang, fallback=config.brand(brand).default_language)
        out.append(SavedReplyView(key, reply.title or key, lang, text, placeholders(text)))
    return out


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace ``{name}`` placeholders; a placeholder with no value is refused (422) by name,
    so a customer never receives a literal ``{booking_number}``."""
    missing = [name for name in placeholders(text) if not values.get(name)]
    if missing:
        raise Unprocessable(f"fill the placeholders: {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
