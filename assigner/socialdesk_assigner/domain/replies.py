"""Saved replies (seed 000's canned responses): which one answers a message, in which language
and in which platform's tone, which ones an agent may pick for a brand and platform, and
filling their placeholders.

A saved reply may be limited to some brands and some platforms, and may word itself for a
platform (``tone``: shorter on X, warmer in a DM); elsewhere its ``text`` is used."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from socialdesk_assigner.domain.errors import Unprocessable
from socialdesk_runtime.config import SavedReply, SocialdeskConfig

__all__ = [
    "SavedReplyView",
    "auto_reply_text",
    "fill",
    "fits",
    "group_reply_identity",
    "is_echo_of",
    "saved_replies_for",
    "saved_reply_for",
    "text_in",
]

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def fits(reply: SavedReply, *, brand: str, platform: str | None = None) -> bool:
    """Whether ``reply`` is meant for ``brand`` (and ``platform``, when one is given)."""
    if reply.brands is not None and brand not in reply.brands:
        return False
    return platform is None or reply.platforms is None or platform in reply.platforms


def saved_reply_for(
    saved: Mapping[str, SavedReply], key: str, *, brand: str, platform: str | None = None
) -> SavedReply | None:
    """The saved reply ``key`` if it exists and is meant for ``brand`` (and ``platform``)."""
    reply = saved.get(key)
    if reply is None or not fits(reply, brand=brand, platform=platform):
        return None
    return reply


def _tone(reply: SavedReply, platform: str | None) -> Mapping[str, str]:
    """The reply's wording for ``platform`` by language (empty: none)."""
    tones = cast(Mapping[str, Mapping[str, str]], reply.tone)
    return tones.get(platform, {}) if platform is not None else {}


def text_in(reply: SavedReply, language: str, *, fallback: str, platform: str | None = None) -> str:
    """The text in ``language``, else its base language ("es-MX" → "es"), else ``fallback``,
    else the first one written; in each language, ``platform``'s own tone first where the
    reply has one (the right language always beats a platform's wording)."""
    tone = _tone(reply, platform)
    for candidate in (language, language.split("-", 1)[0], fallback):
        for texts in (tone, reply.text):
            if candidate in texts:
                return texts[candidate]
    return next(iter(reply.text.values()))


def auto_reply_text(
    config: SocialdeskConfig, key: str, *, brand: str, language: str, platform: str | None = None
) -> str | None:
    """What to answer with the classifier's proposed template ``key``; ``None`` if the brand
    (or the platform) has no such saved reply (the ticket then goes to an agent)."""
    reply = saved_reply_for(config.saved_replies, key, brand=brand, platform=platform)
    if reply is None:
        return None
    return text_in(reply, language, fallback=config.brand(brand).default_language, platform=platform)


@dataclass(frozen=True, slots=True)
class SavedReplyView:
    key: str
    title: str
    language: str
    text: str
    placeholders: tuple[str, ...]
    platform: str | None = None
    """The platform whose tone ``text`` is in (``None``: the reply's general wording)."""


def placeholders(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_PLACEHOLDER.findall(text)))


def saved_replies_for(
    config: SocialdeskConfig, *, brand: str, language: str | None = None, platform: str | None = None
) -> list[SavedReplyView]:
    """The saved replies a brand's agents may use (on ``platform``, if given), each in
    ``language`` (or the brand's) and in the platform's tone where it has one."""
    lang = language or config.brand(brand).default_language
    fallback = config.brand(brand).default_language
    out = []
    for key, reply in sorted(config.saved_replies.items()):
        if not fits(reply, brand=brand, platform=platform):
            continue
        text = text_in(reply, lang, fallback=fallback, platform=platform)
        toned = platform if text in _tone(reply, platform).values() else None
        out.append(SavedReplyView(key, reply.title or key, lang, text, placeholders(text), toned))
    return out


def group_reply_identity(saved_reply: str, values: Mapping[str, str]) -> str:
    """What makes a one-to-many answer the same request again when it has no
    Idempotency-Key: the saved reply and its placeholder values (the group and the caller
    are part of each reply's id already)."""
    filled = "&".join(f"{name}={values[name]}" for name in sorted(values))
    return f"group-answer:{saved_reply}?{filled}"


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace ``{name}`` placeholders; a placeholder with no value is refused (422) by name,
    so a customer never receives a literal ``{booking_number}``."""
    missing = [name for name in placeholders(text) if not values.get(name)]
    if missing:
        raise Unprocessable(f"fill the placeholders: {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


_LEADING_MENTIONS = re.compile(r"^(?:@\w+\s+)+")


def is_echo_of(sent: str, seen: str) -> bool:
    """Whether ``seen``, one of our account's messages coming back from the platform, is the
    reply we sent with ``sent``: the same words, whitespace aside, once the mentions a
    platform puts before a public reply ("@maria ...") are set aside. Platforms that do not
    say which app posted (Meta's comments, X's tweets) are matched this way, so a reply the
    desk sent is not shown a second time as one typed in the platform's inbox."""
    words = " ".join(sent.split())
    back = " ".join(seen.split())
    return bool(words) and (back == words or _LEADING_MENTIONS.sub("", back) == words)
