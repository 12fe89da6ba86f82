"""Meta webhook deliveries (Page feed and Messenger, Instagram, WhatsApp) into items.

``parse_meta(body)`` takes the decoded JSON of one verified delivery and returns every
item it holds, in order. It never raises for the content of an item: an item missing a
field it needs becomes :class:`Skipped` and the rest of the delivery is still read.
Shapes: ``api-notes`` sections 1.1 to 1.5 and the platforms' webhook references.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .instagram import instagram_entry
from .items import (
    Attachment,
    CustomerMessage,
    Ignored,
    Item,
    MessageChanged,
    OwnMessage,
    Parsed,
    Person,
    Skipped,
    as_dict,
    as_list,
    from_s,
    require_id,
    str_id,
    text_of,
    unidentified,
)
from .messaging import PAGE_INBOX_APP_IDS, guard, messaging, text_or_media
from .whatsapp import whatsapp_entry

__all__ = ["DASHBOARD_TEST_ACCOUNT", "PAGE_INBOX_APP_IDS", "parse_meta"]

#: The account id of the sample deliveries Meta's app dashboard sends ("Test" button).
DASHBOARD_TEST_ACCOUNT = "0"


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


# --- object: page ------------------------------------------------------------------------


def _page_entry(entry: dict[str, Any]) -> Iterator[Item]:
    page_id = str_id(entry.get("id")) or ""
    for key in ("messaging", "standby"):
        for ev in as_list(entry.get(key)):
            yield from guard("messenger", messaging, "messenger", page_id, as_dict(ev))
    for change in as_list(entry.get("changes")):
        change = as_dict(change)
        field = change.get("field")
        value = as_dict(change.get("value"))
        if field == "feed":
            yield from guard("facebook", _feed, page_id, value)
        elif field == "mention":
            yield from guard("facebook", _page_mention, page_id, value)
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
        if _sender(from_id, v) == page_id:
            # The Page's own comment (typed in Meta Business Suite, or a reply socialdesk
            # sent): it answers its parent, a customer's comment or visitor post whose ticket
            # it is filed on when we know that message (decision 0204).
            yield OwnMessage(
                "facebook",
                "comment",
                page_id,
                comment_id,
                None,
                text_of(v.get("message")),
                at,
                typed_in_platform_inbox=True,
                in_reply_to=parent or post_id,
            )
            return
        attachments = _feed_attachments(v)
        # Meta may withhold ``from`` (the commenter's privacy): the comment is kept, its
        # author read from the Graph API (enrichment) when it can be.
        yield CustomerMessage(
            platform="facebook",
            kind="comment",
            account_id=page_id,
            platform_message_id=comment_id,
            author=_author(from_id, author, v, comment_id),
            text=text_or_media(text_of(v.get("message")), attachments),
            sent_at=at,
            in_reply_to=parent,
            thread_root=comment_id if top_level else parent,
            attachments=attachments,
            needs_enrichment=_sender(from_id, v) is None,
            raw_kind="feed",
        )
        return
    if item in ("post", "status", "photo", "video", "share") and verb == "add":
        post_id = require_id(v.get("post_id"), "post_id")
        if _sender(from_id, v) == page_id:
            yield Ignored("facebook", "own_post", page_id)
            return
        attachments = _feed_attachments(v)
        # A visitor's post on the Page: a public message to the brand.
        yield CustomerMessage(
            platform="facebook",
            kind="comment",
            account_id=page_id,
            platform_message_id=post_id,
            author=_author(from_id, author, v, post_id),
            text=text_or_media(text_of(v.get("message")), attachments),
            sent_at=from_s(v.get("created_time")),
            thread_root=post_id,
            attachments=attachments,
            needs_enrichment=_sender(from_id, v) is None,
            raw_kind="feed",
        )
        return
    if item in ("post", "status", "photo", "video", "share") and verb in ("edited", "edit", "remove"):
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


def _sender(from_id: str | None, v: dict[str, Any]) -> str | None:
    """Who wrote a feed item: ``from``, else the older ``sender_id`` shape."""
    return from_id or str_id(v.get("sender_id"))


def _author(from_id: str | None, author: dict[str, Any], v: dict[str, Any], item_id: str) -> Person:
    sender = _sender(from_id, v)
    if sender is None:
        return unidentified(item_id)
    name = text_of(author.get("name")) or text_of(v.get("sender_name")) or None
    return Person(sender, display_name=name)


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
        if (str_id(v.get("post_id")) or "").startswith(f"{page_id}_"):
            # A comment under our own post that names the Page: the feed delivers it too, with
            # its thread; taken from there, it joins that thread as a comment.
            yield Ignored("facebook", "mention_in_own_feed", page_id)
            return
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
        author=Person(sender, display_name=text_of(v.get("sender_name")) or None)
        if sender
        else unidentified(mid),
        text=text,
        sent_at=from_s(v.get("created_time")),
        thread_root=mid,
        needs_enrichment=sender is None or not text,
        raw_kind="mention",
    )


_OBJECTS: dict[str, Callable[[dict[str, Any]], Iterator[Item]]] = {
    "page": _page_entry,
    "instagram": instagram_entry,
    "whatsapp_business_account": whatsapp_entry,
}
