"""The comment side of the Meta fake (:class:`tests.fakes.meta.FakeMeta`): the replies a comment
holds, as the two Graph edges list them.

    GET /<ver>/<comment-id>/comments     Facebook Comment "comments" edge: data[] of
        {id, message, from{id,name}, created_time}; order=chronological (default) or
        reverse_chronological; limit (25, at most 100); after=<cursor>
    GET /<ver>/<ig-comment-id>/replies   IG Comment "replies" edge: data[] of
        {id, text, timestamp, from{id,username}, username}, oldest first; after=<cursor>

Both answer ``paging{cursors{before,after}, next?}`` when there is data, only the fields
asked for (``fields=``; an unknown one is Graph's error 100), and Graph's 100/33 for a
comment the fake does not know (never added, never replied to) or that was deleted.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlencode

from tests.fakes.meta_sends import Api, GraphError

__all__ = ["CommentThreads", "unknown_object"]

_FIELDS: Final[dict[Api, frozenset[str]]] = {
    # Fields of a Facebook Comment and of an IG Comment (those the fake holds among them).
    "comments": frozenset(
        {"id", "message", "from", "created_time", "like_count", "comment_count", "parent", "is_hidden"}
    ),
    "instagram_replies": frozenset(
        {"id", "text", "from", "username", "timestamp", "like_count", "hidden", "parent_id", "user"}
    ),
}
_DEFAULT_FIELDS: Final[dict[Api, tuple[str, ...]]] = {
    "comments": ("created_time", "from", "message", "id"),
    "instagram_replies": ("timestamp", "text", "id"),
}


def unknown_object(object_id: str, method: str = "get") -> GraphError:
    return GraphError(
        100,
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be loaded due "
        "to missing permissions, or does not support this operation.",
        subcode=33,
    )


def _graph_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"fake:{index}".encode()).decode().rstrip("=")


def _index(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")[1])
    except (ValueError, IndexError) as exc:
        raise GraphError(100, "(#100) Invalid cursor") from exc


class CommentThreads:
    """Known comments, the account each belongs to, and the replies under each.

    Not thread-safe by itself: the fake calls it under its lock.
    """

    def __init__(self, *, pages: frozenset[str], ig_accounts: frozenset[str]) -> None:
        self._pages, self._ig_accounts = pages, ig_accounts
        self.owners: dict[str, str] = {}  # comment id -> the Page or IG account it is under
        self.replies: dict[str, list[dict[str, Any]]] = {}
        self.deleted: set[str] = set()

    def add(self, comment_id: str, account: str) -> None:
        self.owners[comment_id] = account
        self.replies.setdefault(comment_id, [])
        self.deleted.discard(comment_id)

    def owner(self, comment_id: str, api: Api | None) -> str | None:
        """The account a comment is under: registered, else the only Page (or IG account, for
        the ``replies`` edge or an id without ``_``); ``None`` when the fake cannot tell."""
        known = self.owners.get(comment_id)
        if known is not None:
            return known
        ig = api == "instagram_replies" if api is not None else "_" not in comment_id
        candidates = self._ig_accounts if ig else self._pages
        return next(iter(candidates)) if len(candidates) == 1 else None

    def ours(self, api: Api, parent: str, reply_id: str, text: str, *, at: datetime) -> None:
        """Record the reply we posted: authored by the account the comment is under (a
        placeholder author when the fake cannot tell: a lookup will not count it as ours)."""
        account = self.owner(parent, api)
        if account is not None:
            self.owners.setdefault(parent, account)
        author_id = account or "unknown-account"
        author = {"id": author_id, "name": f"Page {author_id}", "username": f"account_{author_id}"}
        self.reply(api, parent, reply_id, text, author=author, at=at)

    def check_open(self, comment_id: str) -> None:
        """A reply to a deleted comment is refused as Graph does (100/33)."""
        if comment_id in self.deleted:
            raise unknown_object(comment_id, "post")

    def reply(
        self, api: Api, parent: str, reply_id: str, text: str, *, author: Mapping[str, str], at: datetime
    ) -> dict[str, Any]:
        """Record a reply under ``parent``; ``author`` is ``{id, name}`` or ``{id, username}``."""
        if api == "comments":
            item = {
                "id": reply_id,
                "message": text,
                "from": {"id": author["id"], "name": author.get("name", "")},
                "created_time": _graph_time(at),
                "_at": at,
            }
        else:
            username = author.get("username", "")
            item = {
                "id": reply_id,
                "text": text,
                "from": {"id": author["id"], "username": username},
                "username": username,
                "timestamp": _graph_time(at),
                "parent_id": parent,
                "_at": at,
            }
        self.replies.setdefault(parent, []).append(item)
        return item

    def listing(
        self, api: Api, parent: str, args: Mapping[str, Any], *, base_url: str, path: str
    ) -> dict[str, Any]:
        """One page of the edge, as Graph answers ``GET <path>?<args>``."""
        if parent in self.deleted or parent not in self.replies:
            raise unknown_object(parent)
        fields = [f.strip() for f in str(args.get("fields") or "").split(",") if f.strip()]
        fields = [f.split("{")[0] for f in fields] or list(_DEFAULT_FIELDS[api])
        for name in fields:
            if name not in _FIELDS[api]:
                raise GraphError(
                    100, f"(#100) Tried accessing nonexisting field ({name}) on node type (Comment)"
                )
        items = sorted(self.replies[parent], key=lambda item: item["_at"])
        if api == "comments" and args.get("order") == "reverse_chronological":
            items.reverse()
        try:
            limit = max(1, min(100, int(args.get("limit") or 25)))
        except ValueError as exc:
            raise GraphError(100, "(#100) param limit must be an integer") from exc
        start = _index(str(args["after"])) + 1 if args.get("after") else 0
        page = items[start : start + limit]
        data = [{k: copy.deepcopy(v) for k, v in item.items() if k in fields or k == "id"} for item in page]
        if not data:
            return {"data": []}
        last = start + len(page) - 1
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(last)}}
        if last + 1 < len(items):
            query = {k: str(v) for k, v in args.items() if k != "after"} | {"after": _cursor(last)}
            paging["next"] = f"{base_url}{path}?{urlencode(query)}"
        return {"data": data, "paging": paging}
