"""X reconciliation: DMs and mentions read back through X API v2, as the Account Activity
webhook would have delivered them. Pure.

The poller reads ``GET /2/dm_events`` (DMs, user context) and ``GET /2/users/:id/mentions``
(mentions) and turns each customer item into the v1.1-shaped event the webhook carries
(``direct_message_events`` with the ``users`` map; ``tweet_create_events``), stored as a
delivery of source ``x_poll``. The same extraction then stores it unless it already came:
DM event ids and tweet ids are the same in both APIs, so a webhook copy and a polled copy
are one message (exactly once by message id). Our own DMs and tweets are left out (their
webhook copies are echoes, not customer messages), and so are retweets (the parser drops
a delivered retweet the same way).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from socialdesk_ingest.domain.platforms.items import as_dict, as_list, str_id, text_of

__all__ = [
    "DM_EVENT_FIELDS",
    "TWEET_FIELDS",
    "USER_FIELDS",
    "X_POLL_SOURCE",
    "dm_events_as_delivery",
    "mentions_as_delivery",
    "reaches_back_to",
]

X_POLL_SOURCE = "x_poll"
DM_EVENT_FIELDS = "id,event_type,text,created_at,sender_id,dm_conversation_id,participant_ids,attachments"
TWEET_FIELDS = "id,text,created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets"
USER_FIELDS = "id,name,username,public_metrics"


def _ms(value: object) -> int | None:
    """X v2's ``created_at`` (``2026-01-01T09:15:00.000Z``) in epoch milliseconds."""
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(at.timestamp() * 1000)


def _users(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``includes.users`` (v2) as the v1.1 ``users`` map the webhook carries."""
    out: dict[str, dict[str, Any]] = {}
    for u in as_list(as_dict(answer.get("includes")).get("users")):
        u = as_dict(u)
        uid = str_id(u.get("id"))
        if uid is None:
            continue
        user: dict[str, Any] = {
            "id": uid,
            "name": text_of(u.get("name")),
            "screen_name": text_of(u.get("username")),
        }
        followers = as_dict(u.get("public_metrics")).get("followers_count")
        if isinstance(followers, int) and not isinstance(followers, bool):
            user["followers_count"] = followers
        out[uid] = user
    return out


#: The type prefix of a v2 media key (``3_1234``): 3 photo, 7 video, 16 animated GIF.
_MEDIA_TYPES = {"3": "photo", "7": "video", "16": "animated_gif"}


def _media(event: dict[str, Any]) -> dict[str, Any] | None:
    """A DM's first attachment (v2 ``attachments.media_keys``) as the webhook's ``media``."""
    keys = as_list(as_dict(event.get("attachments")).get("media_keys"))
    key = str_id(keys[0]) if keys else None
    if key is None:
        return None
    prefix, _, media_id = key.partition("_")
    return {"id_str": media_id or key, "type": _MEDIA_TYPES.get(prefix, "photo")}


def reaches_back_to(answer: Any, since: datetime) -> bool:
    """Whether a newest-first page already holds an item older than ``since`` (or is the
    last page): reading further pages would find nothing the lookback wants."""
    data = as_list(as_dict(answer).get("data"))
    if not data or not str_id(as_dict(as_dict(answer).get("meta")).get("next_token")):
        return True
    oldest = _ms(as_dict(data[-1]).get("created_at"))
    return oldest is not None and oldest < since.timestamp() * 1000


def dm_events_as_delivery(answers: list[Any], *, account_id: str, since: datetime) -> dict[str, Any] | None:
    """Pages of ``GET /2/dm_events`` as one Account Activity body with the customers' DMs
    since ``since``; ``None`` if there are none."""
    floor = since.timestamp() * 1000
    events: list[dict[str, Any]] = []
    users: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for answer in answers:
        answer = as_dict(answer)
        users.update(_users(answer))
        for e in as_list(answer.get("data")):
            e = as_dict(e)
            event_id, sender = str_id(e.get("id")), str_id(e.get("sender_id"))
            at = _ms(e.get("created_at"))
            if (
                e.get("event_type") != "MessageCreate"
                or event_id is None
                or event_id in seen
                or sender is None
                or sender == account_id
                or at is None
                or at < floor
            ):
                continue
            seen.add(event_id)
            data: dict[str, Any] = {"text": text_of(e.get("text"))}
            media = _media(e)
            if media is not None:
                data["attachment"] = {"type": "media", "media": media}
            events.append(
                {
                    "type": "message_create",
                    "id": event_id,
                    "created_timestamp": str(at),
                    "message_create": {
                        "target": {"recipient_id": account_id},
                        "sender_id": sender,
                        "message_data": data,
                    },
                }
            )
    if not events:
        return None
    events.reverse()  # oldest first, as the webhook delivered them
    wanted = {ev["message_create"]["sender_id"] for ev in events}
    return {
        "for_user_id": account_id,
        "direct_message_events": events,
        "users": {uid: u for uid, u in users.items() if uid in wanted},
    }


def mentions_as_delivery(answers: list[Any], *, account_id: str, since: datetime) -> dict[str, Any] | None:
    """Pages of ``GET /2/users/:id/mentions`` as one Account Activity body with the
    customers' tweets since ``since``; ``None`` if there are none."""
    floor = since.timestamp() * 1000
    tweets: list[dict[str, Any]] = []
    seen: set[str] = set()
    for answer in answers:
        answer = as_dict(answer)
        users = _users(answer)
        for t in as_list(answer.get("data")):
            t = as_dict(t)
            tweet_id, author = str_id(t.get("id")), str_id(t.get("author_id"))
            at = _ms(t.get("created_at"))
            if tweet_id is None or tweet_id in seen or author is None or author == account_id:
                continue
            if at is None or at < floor:
                continue
            seen.add(tweet_id)
            refs = {
                text_of(as_dict(r).get("type")): str_id(as_dict(r).get("id"))
                for r in as_list(t.get("referenced_tweets"))
            }
            if refs.get("retweeted"):
                continue  # a retweet is not a customer writing to us (the parser drops it too)
            user = users.get(author, {"id": author})
            tweet: dict[str, Any] = {
                "id_str": tweet_id,
                "text": text_of(t.get("text")),
                "timestamp_ms": str(at),
                "user": {**user, "id_str": author},
                "in_reply_to_status_id_str": refs.get("replied_to"),
                "in_reply_to_user_id_str": str_id(t.get("in_reply_to_user_id")),
            }
            tweets.append(tweet)
    if not tweets:
        return None
    tweets.reverse()
    return {"for_user_id": account_id, "tweet_create_events": tweets}
