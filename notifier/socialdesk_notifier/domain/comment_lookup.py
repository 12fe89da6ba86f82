"""Our public comment reply found among the comment's replies, when the answer to its send was lost.

A public comment reply (Facebook ``POST /<comment-id>/comments``, Instagram ``POST
/<ig-comment-id>/replies``) carries no metadata of ours, so nothing echoes our delivery key.
Before such a reply is sent again, the sender asks the platform for the comment's replies
(a GET on the very edge it posted to) and this module says which of them, if any, is ours:
authored by our account (the Page, the IG account), with the text we sent (whitespace
normalised: Meta trims), created since the delivery was (less :data:`META_CLOCK_SKEW`),
and not already recorded as the reply of another delivery.

Pure: the sender makes the calls (:mod:`socialdesk_notifier.senders.comment_lookup`) and
hands Graph's ``data[]`` here.

Usage::

    lookup = comment_lookup(request, plan)        # None: not a public comment reply on Meta
    listed = listed_comments(body)                # Graph's data[] (Facebook or Instagram shape)
    ref = our_reply(listed, account=lookup.account, text=lookup.text, since=since)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from socialdesk_notifier.domain.replies import ReplyPlan, ReplyRequest

__all__ = [
    "META_CLOCK_SKEW",
    "CommentLookup",
    "ListedComment",
    "after_cursor",
    "comment_lookup",
    "listed_comments",
    "normalised",
    "our_reply",
    "reaches_before",
]

#: Meta's clock against ours: a reply stamped this much before the window still counts.
META_CLOCK_SKEW: Final = timedelta(seconds=30)

# Graph "comments" edge of a Comment (newest first, 100 a page) and the IG Comment "replies"
# edge (no order parameter: its order is not relied upon).
_FACEBOOK_PARAMS: Final = {
    "fields": "id,message,from,created_time",
    "order": "reverse_chronological",
    "limit": "100",
}
_INSTAGRAM_PARAMS: Final = {"fields": "id,text,from,username,timestamp"}


@dataclass(frozen=True, slots=True)
class CommentLookup:
    """The GET that lists a comment's replies, and what our reply among them looks like."""

    #: The edge we posted to (``/<ver>/<comment-id>/comments`` or ``.../replies``).
    path: str
    params: Mapping[str, str]
    #: Our Page or IG account id: the author of our reply.
    account: str
    #: The text we sent.
    text: str
    #: The listing comes newest first: a page reaching before the window ends the search.
    newest_first: bool


@dataclass(frozen=True, slots=True)
class ListedComment:
    """One reply as Graph listed it (``None`` where a field was missing)."""

    id: str
    text: str
    author_id: str | None
    created_at: datetime | None


def comment_lookup(request: ReplyRequest, plan: ReplyPlan) -> CommentLookup | None:
    """The lookup for a public comment reply on Facebook or Instagram; ``None`` for anything else
    (DMs and private replies carry our key and are found by their echo)."""
    if plan.mode != "public" or len(plan.calls) != 1 or plan.calls[0].api != "graph":
        return None
    call = plan.calls[0]
    if request.platform == "facebook":
        return CommentLookup(call.path, _FACEBOOK_PARAMS, plan.account, call.text, newest_first=True)
    if request.platform == "instagram":
        return CommentLookup(call.path, _INSTAGRAM_PARAMS, plan.account, call.text, newest_first=False)
    return None


def normalised(text: str) -> str:
    """Runs of whitespace as one space, none at the ends: what Meta may have done to our text."""
    return " ".join(text.split())


def _time(value: Any) -> datetime | None:
    """Graph's ``2026-01-01T09:00:00+0000`` (reads) or epoch seconds (webhooks)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def listed_comments(body: Mapping[str, Any]) -> list[ListedComment]:
    """Graph's ``data[]``: Facebook (``message``, ``created_time``) or Instagram (``text``,
    ``timestamp``), the author in ``from.id`` either way."""
    data = body.get("data")
    out: list[ListedComment] = []
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict) or item.get("id") is None:
            continue
        author = item.get("from")
        author_id = author.get("id") if isinstance(author, dict) else None
        text = item.get("message") if "message" in item else item.get("text")
        out.append(
            ListedComment(
                id=str(item["id"]),
                text=str(text or ""),
                author_id=None if author_id is None else str(author_id),
                created_at=_time(item.get("created_time", item.get("timestamp"))),
            )
        )
    return out


def after_cursor(body: Mapping[str, Any]) -> str | None:
    """The cursor of the next page, when Graph says there is one (``paging.next``)."""
    paging = body.get("paging")
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    return str(after) if after else None


def reaches_before(
    listed: Iterable[ListedComment], since: datetime, *, skew: timedelta = META_CLOCK_SKEW
) -> bool:
    """A listed reply is older than the window: on a newest-first listing, nothing further can be ours."""
    return any(c.created_at is not None and c.created_at < since - skew for c in listed)


def our_reply(
    listed: Iterable[ListedComment],
    *,
    account: str,
    text: str,
    since: datetime,
    taken: frozenset[str] = frozenset(),
    skew: timedelta = META_CLOCK_SKEW,
) -> str | None:
    """The id of our reply among ``listed``, or ``None``.

    Ours: authored by ``account``, its text equal to ``text`` once whitespace is
    normalised, created at or after ``since - skew`` (a reply without a time cannot be
    placed, so it is not counted), and not in ``taken`` (the ids other deliveries were
    recorded with). Several: the earliest, the first attempt's.
    """
    wanted = normalised(text)
    floor = since - skew
    ours = [
        c
        for c in listed
        if c.author_id == account
        and c.created_at is not None
        and c.created_at >= floor
        and c.id not in taken
        and normalised(c.text) == wanted
    ]
    if not ours:
        return None
    return min(ours, key=lambda c: (c.created_at or floor, c.id)).id
