"""X Account Activity API deliveries into items (api-notes section 1.7).

One body holds ``for_user_id`` (our account) and one array of events. DMs name their
users in a ``users`` map keyed by id; ids and ``created_timestamp`` (ms) are strings.
Tweets are v1.1 objects: use ``id_str``, and the full text of an extended tweet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

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
    render_attachments,
    require_id,
    str_id,
    text_of,
)

__all__ = ["parse_x"]

_TWEET_TIME = "%a %b %d %H:%M:%S %z %Y"

#: Event arrays that are never customer messages to ticket.
_NOT_MESSAGES = {
    "favorite_events": "favorite",
    "follow_events": "follow",
    "unfollow_events": "follow",
    "block_events": "block",
    "mute_events": "mute",
    "user_event": "user_event",
    "direct_message_indicate_typing_events": "typing",
}


def parse_x(body: Any) -> Parsed:
    out = Parsed()
    if not isinstance(body, dict):
        out.add(Skipped("x", "not_an_object"))
        return out
    account = str_id(body.get("for_user_id"))
    if account is None:
        out.add(Skipped("x", "missing_field", "for_user_id missing"))
        return out
    users = {k: as_dict(v) for k, v in as_dict(body.get("users")).items()}
    known = False
    for key, value in body.items():
        if key in ("for_user_id", "users", "apps", "user_has_blocked", "source"):
            continue
        if key == "direct_message_events":
            known = True
            for ev in as_list(value):
                _guarded(out, _dm, account, as_dict(ev), users)
        elif key == "tweet_create_events":
            known = True
            for tw in as_list(value):
                _guarded(out, _tweet, account, as_dict(tw), body.get("user_has_blocked"))
        elif key == "direct_message_mark_read_events":
            known = True
            for ev in as_list(value):
                _guarded(out, _mark_read, account, as_dict(ev))
        elif key == "tweet_delete_events":
            known = True
            for ev in as_list(value):
                _guarded(out, _tweet_deleted, account, as_dict(ev))
        elif key in _NOT_MESSAGES:
            known = True
            for _ in as_list(value) or [None]:
                out.add(Ignored("x", _NOT_MESSAGES[key], account))
        elif isinstance(value, list):
            known = True
            out.add(Ignored("x", f"unknown_event:{key[:40]}", account))
    if not known:
        out.add(Ignored("x", "no_events", account))
    return out


def _guarded(out: Parsed, fn: Callable[..., Iterator[Item]], *args: Any) -> None:
    try:
        items = list(fn(*args))
    except MissingField as exc:
        out.add(Skipped("x", "missing_field", str(exc)))
        return
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        out.add(Skipped("x", "malformed_item", f"{type(exc).__name__}: {exc}"[:200]))
        return
    for item in items:
        out.add(item)


def _dm(account: str, ev: dict[str, Any], users: dict[str, dict[str, Any]]) -> Iterator[Item]:
    if ev.get("type") != "message_create":
        yield Ignored("x", f"dm_{str(ev.get('type'))[:30]}", account)
        return
    event_id = require_id(ev.get("id"), "direct_message_events[].id")
    mc = as_dict(ev.get("message_create"))
    sender = require_id(mc.get("sender_id"), "message_create.sender_id")
    recipient = str_id(as_dict(mc.get("target")).get("recipient_id"))
    data = as_dict(mc.get("message_data"))
    text = text_of(data.get("text"))
    attachments = _dm_attachments(data)
    at = from_ms(ev.get("created_timestamp"))
    if sender == account:
        yield OwnMessage(
            "x",
            "dm",
            account,
            event_id,
            recipient,
            text,
            at,
            app_id=str_id(mc.get("source_app_id")),
            typed_in_platform_inbox=True,
        )
        return
    user = users.get(sender, {})
    followers = user.get("followers_count")
    yield CustomerMessage(
        platform="x",
        kind="dm",
        account_id=account,
        platform_message_id=event_id,
        author=Person(
            sender,
            handle=text_of(user.get("screen_name")) or None,
            display_name=text_of(user.get("name")) or None,
            followers=followers if isinstance(followers, int) and followers >= 0 else None,
        ),
        text=_strip_media_url(text, attachments) or render_attachments(attachments),
        sent_at=at,
        attachments=attachments,
        raw_kind="direct_message",
    )


def _dm_attachments(data: dict[str, Any]) -> tuple[Attachment, ...]:
    att = as_dict(data.get("attachment"))
    if att.get("type") != "media":
        return ()
    media = as_dict(att.get("media"))
    kind = {"photo": "image", "animated_gif": "video", "video": "video"}.get(
        text_of(media.get("type")), "file"
    )
    return (
        Attachment(
            kind,
            id=str_id(media.get("id_str")) or str_id(media.get("id")),
            url=text_of(media.get("media_url_https")) or None,
        ),
    )


def _strip_media_url(text: str, attachments: tuple[Attachment, ...]) -> str:
    # X appends the media's t.co link to a DM's text; a media-only DM is then just a URL.
    if attachments and text.strip().startswith("https://t.co/") and " " not in text.strip():
        return ""
    return text


def _tweet(account: str, tw: dict[str, Any], user_has_blocked: Any) -> Iterator[Item]:
    tweet_id = str_id(tw.get("id_str")) or require_id(tw.get("id"), "tweet id_str")
    user = as_dict(tw.get("user"))
    author_id = str_id(user.get("id_str")) or str_id(user.get("id"))
    text = (
        text_of(as_dict(tw.get("extended_tweet")).get("full_text"))
        or text_of(tw.get("full_text"))
        or text_of(tw.get("text"))
    )
    at = _tweet_time(tw)
    if author_id == account:
        yield OwnMessage(
            "x",
            "mention",
            account,
            tweet_id,
            str_id(tw.get("in_reply_to_user_id_str")),
            text,
            at,
            typed_in_platform_inbox=True,
            in_reply_to=str_id(tw.get("in_reply_to_status_id_str")),
        )
        return
    if author_id is None:
        raise MissingField("user.id_str missing")
    if "retweeted_status" in tw:
        yield Ignored("x", "retweet", account)
        return
    if str(user_has_blocked).lower() == "true":
        # Delivered because the author is blocked by us: not a customer to answer.
        yield Ignored("x", "blocked_author", account)
        return
    followers = user.get("followers_count")
    # A long tweet's media are in its extended_tweet; a short one's in extended_entities.
    extended = as_dict(tw.get("extended_tweet"))
    media = as_list(
        as_dict(
            extended.get("extended_entities")
            or extended.get("entities")
            or tw.get("extended_entities")
            or tw.get("entities")
        ).get("media")
    )
    attachments = tuple(
        Attachment(
            "image" if as_dict(m).get("type") == "photo" else "video",
            id=str_id(as_dict(m).get("id_str")),
            url=text_of(as_dict(m).get("media_url_https")) or None,
        )
        for m in media
    )
    yield CustomerMessage(
        platform="x",
        kind="mention",
        account_id=account,
        platform_message_id=tweet_id,
        author=Person(
            author_id,
            handle=text_of(user.get("screen_name")) or None,
            display_name=text_of(user.get("name")) or None,
            followers=followers if isinstance(followers, int) and followers >= 0 else None,
        ),
        text=text or render_attachments(attachments),
        sent_at=at,
        in_reply_to=str_id(tw.get("in_reply_to_status_id_str")),
        # A reply joins the thread of the tweet it answers when that one is known
        # (the handler looks it up); otherwise the tweet starts its own thread.
        thread_root=str_id(tw.get("in_reply_to_status_id_str")) or tweet_id,
        attachments=attachments,
        raw_kind="tweet",
        in_reply_to_author=str_id(tw.get("in_reply_to_user_id_str")),
    )


def _tweet_time(tw: dict[str, Any]) -> datetime | None:
    at = from_ms(tw.get("timestamp_ms"))
    if at is not None:
        return at
    raw = tw.get("created_at")
    if isinstance(raw, str):
        try:
            return datetime.strptime(raw, _TWEET_TIME)
        except ValueError:
            return None
    return None


def _mark_read(account: str, ev: dict[str, Any]) -> Iterator[Item]:
    last = require_id(ev.get("last_read_event_id"), "last_read_event_id")
    reader = str_id(ev.get("sender_id"))
    if reader == account:
        yield Ignored("x", "own_read", account)
        return
    yield DeliveryFact(
        "x", account, "read", from_ms(ev.get("created_timestamp")), (last,), recipient_id=reader
    )


def _tweet_deleted(account: str, ev: dict[str, Any]) -> Iterator[Item]:
    status = as_dict(ev.get("status"))
    tweet_id = require_id(status.get("id") or status.get("id_str"), "status.id")
    yield MessageChanged("x", account, tweet_id, "deleted", from_ms(ev.get("timestamp_ms")))
