"""Id-only deliveries (Instagram ``mentions``, Facebook post mentions) and the Graph API
reads that complete them: which read to make, what its answer says, and who it names
(decision 0204). Pure; the HTTP call is :mod:`socialdesk_ingest.graph`'s."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from socialdesk_ingest.domain.incoming import IncomingAuthor, IncomingMessage
from socialdesk_ingest.domain.platforms.items import (
    Ignored,
    OwnMessage,
    as_dict,
    from_s_or_ms,
    is_unidentified,
    str_id,
    text_of,
)

__all__ = [
    "Enrichment",
    "GraphRead",
    "as_own",
    "by_own_account",
    "enriched",
    "graph_read",
    "identified_author",
    "parse_graph_answer",
    "retry_delay",
]


@dataclass(frozen=True, slots=True)
class GraphRead:
    """``GET /<version>/<object_id>?fields=<fields>`` with the token of ``account``."""

    object_id: str
    fields: str
    edge: str | None = None
    """The answer's key holding the object (``mentioned_comment``/``mentioned_media``)."""


@dataclass(frozen=True, slots=True)
class Enrichment:
    text: str
    author: IncomingAuthor | None
    """Who wrote it, named by their platform user id."""
    sent_at: datetime | None
    username: str | None = None
    """A username the read gave without a user id (Instagram's ``mentioned_media``): it
    names the message's author and identifies no one (usernames change and are reused)."""


def graph_read(msg: IncomingMessage, *, ig_account: str | None) -> GraphRead | None:
    """The read that completes ``msg``; ``None`` if it needs none or none is possible."""
    if msg.platform == "instagram" and msg.kind == "mention":
        if ig_account is None:
            return None
        media = msg.in_reply_to
        if media is not None and media != msg.platform_message_id:
            return GraphRead(
                ig_account,
                f"mentioned_comment.comment_id({msg.platform_message_id}){{id,text,timestamp,username,from}}",
                "mentioned_comment",
            )
        return GraphRead(
            ig_account,
            f"mentioned_media.media_id({msg.platform_message_id}){{id,caption,timestamp,username}}",
            "mentioned_media",
        )
    if msg.platform == "facebook" and msg.kind in ("mention", "comment"):
        # a mention named by id, or a comment or visitor post whose author Meta withheld
        return GraphRead(msg.platform_message_id, "id,message,from,created_time")
    return None


def parse_graph_answer(read: GraphRead, answer: Any) -> Enrichment | None:
    """What a Graph answer tells about the message; ``None`` if it holds nothing usable."""
    data = as_dict(answer)
    if read.edge is not None:
        data = as_dict(data.get(read.edge))
    if not data:
        return None
    text = text_of(data.get("text")) or text_of(data.get("caption")) or text_of(data.get("message"))
    author_data = as_dict(data.get("from"))
    author_id = str_id(author_data.get("id"))
    handle = text_of(data.get("username")) or text_of(author_data.get("username")) or None
    author = None
    if author_id is not None:
        author = IncomingAuthor(
            author_id, handle=handle, display_name=text_of(author_data.get("name")) or None
        )
    return Enrichment(
        text=text,
        author=author,
        sent_at=_time(data.get("timestamp") or data.get("created_time")),
        username=handle if author is None else None,
    )


def enriched(msg: IncomingMessage, found: Enrichment) -> IncomingMessage:
    """``msg`` completed with what the Graph API said (what it did not say stays). A
    username alone names its author without making them anyone: the author keeps their id."""
    author = found.author or msg.author
    if found.author is None and found.username:
        author = dataclasses.replace(msg.author, handle=found.username)
    return dataclasses.replace(
        msg, text=found.text or msg.text, author=author, sent_at=found.sent_at or msg.sent_at
    )


def by_own_account(found: Enrichment | None, own: Collection[str]) -> bool:
    """Whether the read says one of our accounts (``own``: the brand's Page or Instagram
    account ids) wrote the message: a comment or post of ours Meta delivered without ``from``."""
    return found is not None and found.author is not None and found.author.platform_user_id in own


def as_own(msg: IncomingMessage, found: Enrichment, account_id: str) -> OwnMessage | Ignored:
    """What the webhook would have said had it named our account as the author: a comment
    of ours answering its parent (filed on that message's ticket), or our own post or
    mention (nothing to ticket)."""
    if msg.kind == "comment" and msg.in_reply_to:
        return OwnMessage(
            msg.platform,
            "comment",
            account_id,
            msg.platform_message_id,
            None,
            found.text or msg.text,
            found.sent_at or msg.sent_at,
            typed_in_platform_inbox=True,
            in_reply_to=msg.in_reply_to,
        )
    return Ignored(msg.platform, "own_post" if msg.kind == "comment" else "own_mention", account_id)


def identified_author(
    author_id: str, found: Enrichment | None, *, own: Collection[str] = ()
) -> IncomingAuthor | None:
    """Who a late read says wrote a message stored under ``author_id``: only when that is the
    placeholder of an author the platform withheld, and the read names someone (decision 0204).
    A message whose author was known keeps them (the read completed its words only); one of
    our own accounts (``own``) is never a customer; a username alone names the placeholder
    (its handle), keeping its id: it says who wrote this message, not who that person is."""
    if found is None or not is_unidentified(author_id) or by_own_account(found, own):
        return None
    if found.author is not None:
        return None if found.author.platform_user_id == author_id else found.author
    return IncomingAuthor(author_id, handle=found.username) if found.username else None


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failures: 30 s doubling, at most 1 h."""
    return float(min(30 * 2 ** max(attempts - 1, 0), 3600))


def _time(value: object) -> datetime | None:
    if isinstance(value, str) and not value.isdigit():
        for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
            try:
                return datetime.strptime(value, fmt).astimezone(UTC)
            except ValueError:
                continue
        return None
    return from_s_or_ms(value)
