"""Instagram deliveries (``object: instagram``): DMs, comments (``id`` or ``comment_id``),
mentions (ids only: enriched later)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .items import (
    CustomerMessage,
    Ignored,
    Item,
    MissingField,
    OwnMessage,
    Person,
    as_dict,
    as_list,
    from_s_or_ms,
    require_id,
    str_id,
    text_of,
    unidentified,
)
from .messaging import guard, messaging

__all__ = ["instagram_entry"]


# --- object: instagram -------------------------------------------------------------------


def instagram_entry(entry: dict[str, Any]) -> Iterator[Item]:
    account_id = str_id(entry.get("id")) or ""
    for key in ("messaging", "standby"):
        for ev in as_list(entry.get(key)):
            yield from guard("instagram", messaging, "instagram", account_id, as_dict(ev))
    for change in as_list(entry.get("changes")):
        change = as_dict(change)
        field = change.get("field")
        value = as_dict(change.get("value"))
        if field in ("comments", "live_comments"):
            yield from guard("instagram", _ig_comment, account_id, value)
        elif field == "mentions":
            yield from guard("instagram", _ig_mention, account_id, value)
        elif field in ("messages", "messaging_seen", "message_reactions", "messaging_postbacks"):
            # Some subscriptions deliver DM events as changes with the messaging shape.
            yield from guard("instagram", messaging, "instagram", account_id, value)
        else:
            yield Ignored("instagram", f"unknown_field:{str(field)[:40]}", account_id)


def _ig_comment(account_id: str, v: dict[str, Any]) -> Iterator[Item]:
    comment_id = str_id(v.get("id")) or require_id(v.get("comment_id"), "comment id (id or comment_id)")
    author = as_dict(v.get("from"))
    from_id = str_id(author.get("id"))
    media = as_dict(v.get("media"))
    text = text_of(v.get("text"))
    at = from_s_or_ms(v.get("timestamp")) if v.get("timestamp") is not None else None
    if _by_us(account_id, from_id, str_id(author.get("self_ig_scoped_id"))):
        # Our account's own comment: a reply names the comment it answers (``parent_id``), a
        # top-level one only the media it is under (decision 0204).
        yield OwnMessage(
            "instagram",
            "comment",
            account_id,
            comment_id,
            None,
            text,
            at,
            typed_in_platform_inbox=True,
            in_reply_to=str_id(v.get("parent_id")) or str_id(media.get("id")),
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


def _by_us(account_id: str, from_id: str | None, self_scoped: str | None) -> bool:
    """Whether our account wrote a comment. ``from.id`` is the account's id, or (Instagram
    Login) an Instagram-scoped id; Meta marks the account's own comment with
    ``from.self_ig_scoped_id``, its Instagram-scoped id. A scoped id unlike the author's
    (or an author without one) does not make a customer's comment ours (decision 0204)."""
    return from_id == account_id or (self_scoped is not None and from_id in (None, self_scoped))


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
        author=unidentified(mid),
        text="",
        sent_at=None,
        in_reply_to=media_id if comment_id else None,
        thread_root=mid,
        needs_enrichment=True,
        raw_kind="mentions",
    )
