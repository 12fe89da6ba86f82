"""Saved replies (seed 000's canned responses): which one answers a message, in which language."""

from __future__ import annotations

from collections.abc import Mapping

from socialdesk_runtime.config import SavedReply, SocialdeskConfig

__all__ = ["auto_reply_text", "saved_reply_for", "text_in"]


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
