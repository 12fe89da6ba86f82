"""Meta webhook deliveries (Page feed and Messenger, Instagram, WhatsApp) into items.

``parse_meta(body)`` takes the decoded JSON of one verified delivery and returns every
item it holds, in order. It never raises for the content of an item: an item missing a
field it needs becomes :class:`Skipped` and the rest of the delivery is still read.
Shapes: ``api-notes`` sections 1.1 to 1.5 and the platforms' webhook references.
"""

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
    Parsed,
    Person,
    Skipped,
    as_dict,
    as_list,
    from_ms,
    from_s,
    from_s_or_ms,
    render_attachments,
    require_id,
    str_id,
    text_of,
)

__all__ = ["DASHBOARD_TEST_ACCOUNT", "PAGE_INBOX_APP_IDS", "parse_meta"]

#: The account id of the sample deliveries Meta's app dashboard sends ("Test" button).
DASHBOARD_TEST_ACCOUNT = "0"

#: ``app_id`` of echoes written by a person in Meta's own Page inbox (Business Suite).
#: The documented id is 263902037430900; api-notes quotes 26390203743090: accept both.
PAGE_INBOX_APP_IDS = frozenset({"263902037430900", "26390203743090"})

#: The prefix of the ``metadata`` we attach to our own sends (the notifier's delivery key):
#: an echo carrying it is our send coming back, not a person typing in Meta's inbox.
OUR_METADATA_PREFIX = "sd:"

_MEDIA_TYPES = ("image", "video", "audio", "document", "sticker", "voice", "file")


def parse_meta(body: Any) -> Parsed:
    out = Parsed()
    if not isinstance(body, dict):
        out.add(Skipped("unknown", "not_an_object"))
        return out
    obj = body.get("object")
    entries = body.get("entry")
    parser = _OBJECTS.get(obj) if isinstance(obj, str) else None
    if parser is None:
        out.add(Ignored("unknown", f"unknown_object:{str(obj)[:40]}"))
        return out
    if not isinstance(entries, list):
        out.add(Skipped("unknown", "entry_not_a_list"))
        return out
    for entry in entries:
        if not isinstance(entry, dict):
            out.add(Skipped("unknown", "entry_not_an_object"))
            continue
        if str_id(entry.get("id")) == DASHBOARD_TEST_ACCOUNT:
            # The app dashboard's "Test" button: sample payloads for account "0".
            out.add(Ignored("unknown", "dashboard_test"))
            continue
        for item in parser(entry):
            out.add(item)
    return out


def _guard(platform: Platform, fn: Callable[..., Iterator[Item]], *args: Any) -> Iterator[Item]:
    """Run one item's parser; a missing or mistyped field skips that item only."""
    try:
        yield from list(fn(*args))
    except MissingField as exc:
        yield Skipped(platform, "missing_field", str(exc))
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        yield Skipped(platform, "malformed_item", f"{type(exc).__name__}: {exc}"[:200])


# --- object: page ------------------------------------------------------------------------


def _page_entry(entry: dict[str, Any]) -> Iterator[Item]:
    page_id = str_id(entry.get("id")) or ""
    for key in ("messaging", "standby"):
        for ev in as_list(entry.get(key)):
            yield from _guard("messenger", _messaging, "messenger", page_id, as_dict(ev))
    for change in as_list(entry.get("changes")):
        change = as_dict(change)
        field = change.get("field")
        value = as_dict(change.get("value"))
        if field == "feed":
            yield from _guard("facebook", _feed, page_id, value)
        elif field == "mention":
            yield from _guard("facebook", _page_mention, page_id, value)
        else:
            yield Ignored("facebook", f"unknown_field:{str(field)[:40]}", page_id)


def _feed(page_id: str, v: dict[str, Any]) -> Iterator[Item]:
    item, verb = v.get("item"), v.get("verb")
    author = as_dict(v.get("from"))
    from_id = str_id(author.get("id"))
    if item in ("reaction", "like"):
        yield Ignored("facebook", "reaction", page_id)
        return
    if item == "comment":
        comment_id = require_id(v.get("comment_id"), "comment_id")
        at = from_s(v.get("created_time"))
        if verb == "remove":
            yield MessageChanged("facebook", page_id, comment_id, "deleted", at)
            return
        if verb == "edited":
            yield MessageChanged("facebook", page_id, comment_id, "edited", at, text_of(v.get("message")))
            return
        if verb != "add":
            yield Ignored("facebook", f"comment_{verb}", page_id)
            return
        post_id = str_id(v.get("post_id"))
        parent = str_id(v.get("parent_id"))
        # A top-level comment's parent is the post; a reply's is the comment it answers
        # (Facebook nests one level), whose thread it joins.
        top_level = parent is None or parent == post_id
        if from_id == page_id:
            yield OwnMessage(
                "facebook",
                "comment",
                page_id,
                comment_id,
                None,
                text_of(v.get("message")),
                at,
                typed_in_platform_inbox=True,
            )
            return
        if from_id is None:
            raise MissingField("from.id missing")
        attachments = _feed_attachments(v)
        yield CustomerMessage(
            platform="facebook",
            kind="comment",
            account_id=page_id,
            platform_message_id=comment_id,
            author=Person(from_id, display_name=text_of(author.get("name")) or None),
            text=_text_or_media(text_of(v.get("message")), attachments),
            sent_at=at,
            in_reply_to=parent,
            thread_root=comment_id if top_level else parent,
            attachments=attachments,
            raw_kind="feed",
        )
        return
    if item in ("post", "status", "photo", "video", "share") and verb == "add":
        post_id = require_id(v.get("post_id"), "post_id")
        if from_id == page_id or from_id is None:
            yield Ignored("facebook", "own_post", page_id)
            return
        attachments = _feed_attachments(v)
        # A visitor's post on the Page: a public message to the brand.
        yield CustomerMessage(
            platform="facebook",
            kind="comment",
            account_id=page_id,
            platform_message_id=post_id,
            author=Person(from_id, display_name=text_of(author.get("name")) or None),
            text=_text_or_media(text_of(v.get("message")), attachments),
            sent_at=from_s(v.get("created_time")),
            thread_root=post_id,
            attachments=attachments,
            raw_kind="feed",
        )
        return
    if item in ("post", "status", "photo", "video", "share") and verb in ("edited", "remove"):
        post_id = require_id(v.get("post_id"), "post_id")
        yield MessageChanged(
            "facebook",
            page_id,
            post_id,
            "deleted" if verb == "remove" else "edited",
            from_s(v.get("created_time")),
            text_of(v.get("message")) or None,
        )
        return
    yield Ignored("facebook", f"feed_{item}_{verb}"[:60], page_id)


def _feed_attachments(v: dict[str, Any]) -> tuple[Attachment, ...]:
    photo = str_id(v.get("photo")) or str_id(v.get("link"))
    if photo:
        return (Attachment("image", url=photo),)
    video = str_id(v.get("video"))
    return (Attachment("video", url=video),) if video else ()


def _page_mention(page_id: str, v: dict[str, Any]) -> Iterator[Item]:
    if v.get("verb") not in (None, "add"):
        yield Ignored("facebook", f"mention_{v.get('verb')}", page_id)
        return
    item = v.get("item")
    if item == "comment":
        mid = require_id(v.get("comment_id"), "comment_id")
    else:
        mid = require_id(v.get("post_id"), "post_id")
    sender = str_id(v.get("sender_id"))
    text = text_of(v.get("message"))
    if sender == page_id:
        yield Ignored("facebook", "own_mention", page_id)
        return
    yield CustomerMessage(
        platform="facebook",
        kind="mention",
        account_id=page_id,
        platform_message_id=mid,
        author=Person(sender or "unknown", display_name=text_of(v.get("sender_name")) or None),
        text=text,
        sent_at=from_s(v.get("created_time")),
        thread_root=mid,
        needs_enrichment=sender is None or not text,
        raw_kind="mention",
    )


# --- messaging (Messenger and Instagram DMs) ---------------------------------------------


def _messaging(platform: Platform, account_id: str, ev: dict[str, Any]) -> Iterator[Item]:
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
            _text_or_media(text, attachments),
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
        text=_text_or_media(text, attachments),
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


def _text_or_media(text: str, attachments: tuple[Attachment, ...]) -> str:
    if text.strip():
        return text
    return render_attachments(attachments)


# --- object: instagram -------------------------------------------------------------------


def _instagram_entry(entry: dict[str, Any]) -> Iterator[Item]:
    account_id = str_id(entry.get("id")) or ""
    for key in ("messaging", "standby"):
        for ev in as_list(entry.get(key)):
            yield from _guard("instagram", _messaging, "instagram", account_id, as_dict(ev))
    for change in as_list(entry.get("changes")):
        change = as_dict(change)
        field = change.get("field")
        value = as_dict(change.get("value"))
        if field in ("comments", "live_comments"):
            yield from _guard("instagram", _ig_comment, account_id, value)
        elif field == "mentions":
            yield from _guard("instagram", _ig_mention, account_id, value)
        elif field in ("messages", "messaging_seen", "message_reactions", "messaging_postbacks"):
            # Some subscriptions deliver DM events as changes with the messaging shape.
            yield from _guard("instagram", _messaging, "instagram", account_id, value)
        else:
            yield Ignored("instagram", f"unknown_field:{str(field)[:40]}", account_id)


def _ig_comment(account_id: str, v: dict[str, Any]) -> Iterator[Item]:
    comment_id = str_id(v.get("id")) or require_id(v.get("comment_id"), "comment id (id or comment_id)")
    author = as_dict(v.get("from"))
    from_id = str_id(author.get("id"))
    media = as_dict(v.get("media"))
    text = text_of(v.get("text"))
    at = from_s_or_ms(v.get("timestamp")) if v.get("timestamp") is not None else None
    if from_id == account_id:
        yield OwnMessage(
            "instagram", "comment", account_id, comment_id, None, text, at, typed_in_platform_inbox=True
        )
        return
    if from_id is None:
        raise MissingField("from.id missing")
    yield CustomerMessage(
        platform="instagram",
        kind="comment",
        account_id=account_id,
        platform_message_id=comment_id,
        author=Person(from_id, handle=text_of(author.get("username")) or None),
        text=text,
        sent_at=at,
        in_reply_to=str_id(v.get("parent_id")) or str_id(media.get("id")),
        # Replies name their top-level comment as parent: they join its thread.
        thread_root=str_id(v.get("parent_id")) or comment_id,
        raw_kind="comments",
    )


def _ig_mention(account_id: str, v: dict[str, Any]) -> Iterator[Item]:
    media_id = str_id(v.get("media_id"))
    comment_id = str_id(v.get("comment_id"))
    mid = comment_id or media_id
    if mid is None:
        raise MissingField("media_id missing")
    yield CustomerMessage(
        platform="instagram",
        kind="mention",
        account_id=account_id,
        platform_message_id=mid,
        author=Person("unknown"),
        text="",
        sent_at=None,
        in_reply_to=media_id if comment_id else None,
        thread_root=mid,
        needs_enrichment=True,
        raw_kind="mentions",
    )


# --- object: whatsapp_business_account ---------------------------------------------------


def _whatsapp_entry(entry: dict[str, Any]) -> Iterator[Item]:
    for change in as_list(entry.get("changes")):
        change = as_dict(change)
        field = change.get("field")
        value = as_dict(change.get("value"))
        phone_id = str_id(as_dict(value.get("metadata")).get("phone_number_id"))
        if field not in ("messages", "smb_message_echoes"):
            yield Ignored("whatsapp", f"unknown_field:{str(field)[:40]}", phone_id)
            continue
        if phone_id is None:
            yield Skipped("whatsapp", "missing_field", "metadata.phone_number_id missing")
            continue
        names = {
            str_id(c.get("wa_id")): text_of(as_dict(c.get("profile")).get("name")) or None
            for c in (as_dict(x) for x in as_list(value.get("contacts")))
        }
        for m in as_list(value.get("messages")):
            yield from _guard("whatsapp", _wa_message, phone_id, as_dict(m), names)
        for s in as_list(value.get("statuses")):
            yield from _guard("whatsapp", _wa_status, phone_id, as_dict(s))
        for m in as_list(value.get("message_echoes")):
            yield from _guard("whatsapp", _wa_echo, phone_id, as_dict(m))


def _wa_content(m: dict[str, Any]) -> tuple[str, tuple[Attachment, ...]]:
    kind = text_of(m.get("type"))
    body = as_dict(m.get(kind)) if kind else {}
    if kind == "text":
        return text_of(body.get("body")), ()
    if kind in _MEDIA_TYPES:
        caption = text_of(body.get("caption")) or None
        att = Attachment(kind, id=str_id(body.get("id")), caption=caption)
        return caption or render_attachments((att,)), (att,)
    if kind == "location":
        name = text_of(body.get("name")) or text_of(body.get("address"))
        coords = f"{body.get('latitude')},{body.get('longitude')}"
        label = f"{name} ({coords})" if name else coords
        att = Attachment("location", caption=label)
        return f"[location: {label}]", (att,)
    if kind == "contacts":
        people = [
            text_of(as_dict(c.get("name")).get("formatted_name"))
            for c in (as_dict(x) for x in as_list(m.get("contacts")))
        ]
        return f"[contacts: {', '.join(p for p in people if p) or 'shared'}]", (Attachment("contacts"),)
    if kind == "interactive":
        reply = as_dict(body.get("button_reply")) or as_dict(body.get("list_reply"))
        return text_of(reply.get("title")) or text_of(reply.get("id")), ()
    if kind == "button":
        return text_of(body.get("text")) or text_of(body.get("payload")), ()
    if kind == "order":
        return "[order]", (Attachment("order"),)
    return f"[{kind or 'unknown'} message]", ()


def _wa_message(phone_id: str, m: dict[str, Any], names: dict[str | None, str | None]) -> Iterator[Item]:
    kind = text_of(m.get("type"))
    if kind == "reaction":
        yield Ignored("whatsapp", "reaction", phone_id)
        return
    if kind == "system":
        yield Ignored("whatsapp", "system", phone_id)
        return
    wamid = require_id(m.get("id"), "messages[].id")
    sender = require_id(m.get("from"), "messages[].from")
    text, attachments = _wa_content(m)
    context = as_dict(m.get("context"))
    yield CustomerMessage(
        platform="whatsapp",
        kind="dm",
        account_id=phone_id,
        platform_message_id=wamid,
        author=Person(sender, handle=sender, display_name=names.get(sender)),
        text=text,
        sent_at=from_s(m.get("timestamp")),
        in_reply_to=str_id(context.get("id")),
        attachments=attachments,
        raw_kind=kind or "messages",
    )


def _wa_status(phone_id: str, s: dict[str, Any]) -> Iterator[Item]:
    wamid = require_id(s.get("id"), "statuses[].id")
    status = text_of(s.get("status"))
    if status not in ("sent", "delivered", "read", "failed", "played", "deleted"):
        yield Ignored("whatsapp", f"status_{status}"[:40], phone_id)
        return
    errors = [as_dict(e) for e in as_list(s.get("errors"))]
    code = errors[0].get("code") if errors else None
    yield DeliveryFact(
        platform="whatsapp",
        account_id=phone_id,
        status=status,  # type: ignore[arg-type]  # checked against the literal's values above
        at=from_s(s.get("timestamp")),
        platform_message_ids=(wamid,),
        recipient_id=str_id(s.get("recipient_id")),
        error_code=code if isinstance(code, int) else None,
        error_title=(text_of(errors[0].get("title")) or text_of(errors[0].get("message")) or None)
        if errors
        else None,
        callback_data=text_of(s.get("biz_opaque_callback_data")) or None,
    )


def _wa_echo(phone_id: str, m: dict[str, Any]) -> Iterator[Item]:
    wamid = require_id(m.get("id"), "message_echoes[].id")
    text, _ = _wa_content(m)
    yield OwnMessage(
        "whatsapp",
        "dm",
        phone_id,
        wamid,
        str_id(m.get("to")),
        text,
        from_s(m.get("timestamp")),
        typed_in_platform_inbox=True,
    )


_OBJECTS: dict[str, Callable[[dict[str, Any]], Iterator[Item]]] = {
    "page": _page_entry,
    "instagram": _instagram_entry,
    "whatsapp_business_account": _whatsapp_entry,
}
