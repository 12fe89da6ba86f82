"""The read side of the X fake (:class:`tests.fakes.x.FakeX`): what a reconciliation poller reads.

    GET /2/dm_events                 "dm_events.list"   user context only (dm.read)
    GET /2/users/<id>/mentions       "users.mentions"   user context or app-only

Both answer as X API v2 does: newest first, ``data`` left out when nothing matches,
``meta.result_count`` / ``meta.next_token`` for pages (``pagination_token`` to follow),
only the default fields (``id``, ``text``, plus ``event_type`` / ``edit_history_tweet_ids``)
unless ``dm_event.fields`` / ``tweet.fields`` ask for more, and the authors in
``includes.users`` only with ``expansions=sender_id`` / ``author_id`` (``public_metrics``
only when ``user.fields`` asks). Mentions honour ``start_time`` (ISO 8601) and
``max_results`` (5–100, default 10); DM events ``max_results`` (1–100, default 100).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["XReads"]

_DM_FIELDS = frozenset({"created_at", "sender_id", "dm_conversation_id", "participant_ids", "attachments"})
_TWEET_FIELDS = frozenset(
    {"created_at", "author_id", "conversation_id", "in_reply_to_user_id", "referenced_tweets", "entities"}
)


class ReadError(Exception):
    def __init__(self, status: int, title: str, detail: str, kind: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.kind = status, title, detail, kind


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _when(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _fields(query: dict[str, str], name: str) -> set[str]:
    return {f for f in query.get(name, "").split(",") if f}


def _limit(query: dict[str, str], low: int, high: int, default: int) -> int:
    raw = query.get("max_results")
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ReadError(
            400, "Invalid Request", f"max_results must be between {low} and {high}", "invalid-request"
        )
    return int(raw)


@dataclass
class XReads:
    """DM events and mentions of one account, kept newest last; rendered as v2 answers."""

    user_id: str
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    dm_events: list[dict[str, Any]] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)

    def add_user(self, user_id: str, username: str | None, name: str | None, followers: int) -> None:
        self.users[user_id] = {
            "id": user_id,
            "username": username or f"user{user_id}",
            "name": name or f"User {user_id}",
            "public_metrics": {"followers_count": followers, "following_count": 1, "tweet_count": 1},
        }

    # answers ---------------------------------------------------------------------------
    def dm_events_page(self, query: dict[str, str]) -> dict[str, Any]:
        limit = _limit(query, 1, 100, 100)
        wanted = _fields(query, "dm_event.fields") & _DM_FIELDS
        types = _fields(query, "event_types") or {"MessageCreate", "ParticipantsJoin", "ParticipantsLeave"}
        events = [e for e in reversed(self.dm_events) if e["event_type"] in types]
        page, next_token = self._page(events, query, limit)
        data = [
            {k: copy.deepcopy(v) for k, v in e.items() if k in {"id", "event_type", "text"} | wanted}
            for e in page
        ]
        authors = [e["sender_id"] for e in page] if "sender_id" in _fields(query, "expansions") else []
        return self._answer(data, authors, query, next_token)

    def mentions_page(self, account: str, query: dict[str, str]) -> dict[str, Any]:
        limit = _limit(query, 5, 100, 10)
        wanted = _fields(query, "tweet.fields") & _TWEET_FIELDS
        tweets = list(reversed(self.mentions)) if account == self.user_id else []
        if "start_time" in query:
            try:
                floor = _when(query["start_time"])
            except ValueError:
                raise ReadError(
                    400, "Invalid Request", "start_time must be ISO 8601", "invalid-request"
                ) from None
            tweets = [t for t in tweets if _when(t["created_at"]) >= floor]
        page, next_token = self._page(tweets, query, limit)
        data = [
            {
                k: copy.deepcopy(v)
                for k, v in t.items()
                if k in {"id", "text", "edit_history_tweet_ids"} | wanted and v is not None
            }
            for t in page
        ]
        authors = [t["author_id"] for t in page] if "author_id" in _fields(query, "expansions") else []
        return self._answer(data, authors, query, next_token)

    def _page(
        self, items: list[dict[str, Any]], query: dict[str, str], limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        token = query.get("pagination_token")
        start = 0
        if token is not None:
            if not token.startswith("p") or not token[1:].isdigit():
                raise ReadError(400, "Invalid Request", "pagination_token is invalid", "invalid-request")
            start = int(token[1:])
        page = items[start : start + limit]
        return page, (f"p{start + limit}" if start + limit < len(items) else None)

    def _answer(
        self, data: list[dict[str, Any]], authors: list[str], query: dict[str, str], next_token: str | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if data:
            out["data"] = data
        user_fields = _fields(query, "user.fields")
        users = []
        for uid in dict.fromkeys(authors):
            user = self.users.get(uid, {"id": uid, "username": f"user{uid}", "name": f"User {uid}"})
            users.append(
                {
                    k: copy.deepcopy(v)
                    for k, v in user.items()
                    if k in {"id", "username", "name"} or k in user_fields
                }
            )
        if users:
            out["includes"] = {"users": users}
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta["newest_id"], meta["oldest_id"] = data[0]["id"], data[-1]["id"]
        if next_token is not None:
            meta["next_token"] = next_token
        out["meta"] = meta
        return out

    # helpers for tests ------------------------------------------------------------------
    def new_dm(
        self,
        event_id: str,
        *,
        sender_id: str,
        recipient_id: str,
        text: str,
        created_at: datetime,
        media_key: str | None = None,
    ) -> dict[str, Any]:
        low, high = sorted((sender_id, recipient_id), key=int)
        event: dict[str, Any] = {
            "id": event_id,
            "event_type": "MessageCreate",
            "text": text,
            "sender_id": sender_id,
            "dm_conversation_id": f"{low}-{high}",
            "participant_ids": [sender_id, recipient_id],
            "created_at": _iso(created_at),
        }
        if media_key is not None:
            event["attachments"] = {"media_keys": [media_key]}
        self.dm_events.append(event)
        return event

    def new_mention(
        self,
        tweet_id: str,
        *,
        author_id: str,
        text: str,
        created_at: datetime,
        in_reply_to: str | None = None,
        retweet_of: str | None = None,
    ) -> dict[str, Any]:
        referenced = [{"type": "replied_to", "id": in_reply_to}] if in_reply_to else []
        if retweet_of:
            referenced.append({"type": "retweeted", "id": retweet_of})
        tweet: dict[str, Any] = {
            "id": tweet_id,
            "text": text,
            "edit_history_tweet_ids": [tweet_id],
            "author_id": author_id,
            "created_at": _iso(created_at),
            "conversation_id": in_reply_to or tweet_id,
            "in_reply_to_user_id": self.user_id if in_reply_to else None,
            "referenced_tweets": referenced or None,
        }
        self.mentions.append(tweet)
        return tweet
