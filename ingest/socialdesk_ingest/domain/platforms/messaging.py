"""Messenger and Instagram DM events (``messaging`` / ``standby`` items) into items, and
the guard every Meta item parser runs under."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from socialdesk_schemas import Platform

from .items import (
    Attachment,
    CustomerMessage,
    DeliveryFact,
    Ignored,
    Item,
    MessageChanged,
    MissingField,
    OwnMessage,
    Person,
    Skipped,
    as_dict,
    as_list,
    from_ms,
    render_attachments,
    require_id,
    str_id,
    text_of,
)

__all__ = ["OUR_METADATA_PREFIX", "PAGE_INBOX_APP_IDS", "guard", "messaging", "text_or_media"]

#: ``app_id`` of echoes written by a person in Meta's own Page inbox (Business Suite).
#: The documented id is 263902037430900; api-notes quotes 26390203743090: accept both.
PAGE_INBOX_APP_IDS = frozenset({"263902037430900", "26390203743090"})

#: The prefix of the ``metadata`` we attach to our own sends (the notifier's delivery key):
#: an echo carrying it is our send coming back, not a person typing in Meta's inbox.
OUR_METADATA_PREFIX = "sd:"


def guard(platform: Platform, fn: Callable[..., Iterator[Item]], *args: Any) -> Iterator[Item]:
    """Run one item's parser; a missing or mistyped field skips that item only."""
    try:
        yield from list(fn(*args))
    except MissingField as exc:
        yield Skipped(platform, "missing_field", str(exc))
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        yield Skipped(platform, "malformed_item", f"{type(exc).__name__}: {exc}"[:200])


# --- messaging (Messenger and Instagram DMs) ---------------------------------------------


def messaging(platform: Platform, account_id: str, ev: dict[str, Any]) -> Iterator[Item]:
    sender = str_id(as_dict(ev.get("sender")).get("id"))
    recipient = str_id(as_dict(ev.get("recipient")).get("id"))
    at = from_ms(ev.get("timestamp"))
    if "message" in ev:
        yield from _message(platform, account_id, sender, recipient, at, as_dict(ev["message"]))
    elif "postback" in ev:
        pb = as_dict(ev["postback"])
        if sender is None:
            raise MissingField("sender.id missing")
        mid = str_id(pb.get("mid")) or f"postback:{sender}:{ev.get('timestamp')}"
        title = text_of(pb.get("title")) or text_of(pb.get("payload"))
        yield CustomerMessage(platform, "dm", account_id, mid, Person(sender), title, at, raw_kind="postback")
    elif "delivery" in ev:
        d = as_dict(ev["delivery"])
        mids = tuple(m for m in (str_id(x) for x in as_list(d.get("mids"))) if m)
        yield DeliveryFact(platform, account_id, "delivered", at, mids, from_ms(d.get("watermark")), sender)
    elif "read" in ev:
        r = as_dict(ev["read"])
        read_mid = str_id(r.get("mid"))
        yield DeliveryFact(
            platform,
            account_id,
            "read",
            at,
            (read_mid,) if read_mid else (),
            from_ms(r.get("watermark")),
            sender,
        )
    elif "message_edit" in ev:
        e = as_dict(ev["message_edit"])
        mid = require_id(e.get("mid"), "message_edit.mid")
        yield MessageChanged(platform, account_id, mid, "edited", at, text_of(e.get("text")))
    elif "reaction" in ev:
        yield Ignored(platform, "reaction", account_id)
    else:
        kind = next((k for k in ev if k not in ("sender", "recipient", "timestamp")), "empty")
        yield Ignored(platform, f"messaging_{kind}"[:60], account_id)


def _message(
    platform: Platform,
    account_id: str,
    sender: str | None,
    recipient: str | None,
    at: Any,
    m: dict[str, Any],
) -> Iterator[Item]:
    mid = require_id(m.get("mid"), "message.mid")
    if m.get("is_deleted"):
        yield MessageChanged(platform, account_id, mid, "deleted", at)
        return
    attachments = tuple(_attachment(as_dict(a)) for a in as_list(m.get("attachments")))
    text = text_of(m.get("text"))
    if m.get("is_echo") or (sender is not None and sender == account_id):
        app_id = str_id(m.get("app_id"))
        metadata = text_of(m.get("metadata")) or None
        ours = metadata is not None and metadata.startswith(OUR_METADATA_PREFIX)
        yield OwnMessage(
            platform,
            "dm",
            account_id,
            mid,
            recipient,
            text_or_media(text, attachments),
            at,
            app_id=app_id,
            metadata=metadata,
            typed_in_platform_inbox=not ours,
        )
        return
    if sender is None:
        raise MissingField("sender.id missing")
    if m.get("is_unsupported"):
        text = text or "[unsupported message]"
    reply_to = as_dict(m.get("reply_to"))
    in_reply_to = str_id(reply_to.get("mid"))
    story = as_dict(reply_to.get("story"))
    if story:
        in_reply_to = str_id(story.get("id")) or in_reply_to
        attachments = (
            *attachments,
            Attachment("story_reply", id=str_id(story.get("id")), url=text_of(story.get("url")) or None),
        )
    quick = as_dict(m.get("quick_reply"))
    if not text and quick:
        text = text_of(quick.get("payload"))
    yield CustomerMessage(
        platform=platform,
        kind="dm",
        account_id=account_id,
        platform_message_id=mid,
        author=Person(sender),
        text=text_or_media(text, attachments),
        sent_at=at,
        in_reply_to=in_reply_to,
        attachments=attachments,
        raw_kind="messages",
    )


def _attachment(a: dict[str, Any]) -> Attachment:
    kind = text_of(a.get("type")) or "file"
    payload = as_dict(a.get("payload"))
    if kind == "location":
        coords = as_dict(payload.get("coordinates"))
        lat, lon = coords.get("lat"), coords.get("long")
        label = f"{lat},{lon}" if lat is not None and lon is not None else text_of(a.get("title"))
        return Attachment("location", caption=label or None)
    return Attachment(
        kind,
        id=str_id(payload.get("attachment_id")) or str_id(payload.get("sticker_id")),
        url=text_of(payload.get("url")) or None,
        caption=text_of(a.get("title")) or None,
    )


def text_or_media(text: str, attachments: tuple[Attachment, ...]) -> str:
    if text.strip():
        return text
    return render_attachments(attachments)
