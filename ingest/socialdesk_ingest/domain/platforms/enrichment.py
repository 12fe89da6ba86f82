"""Id-only deliveries (Instagram ``mentions``, Facebook post mentions) and the Graph API
reads that complete them: which read to make, and what its answer says. Pure; the HTTP
call is :mod:`socialdesk_ingest.graph`'s."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from socialdesk_ingest.domain.incoming import IncomingAuthor, IncomingMessage
from socialdesk_ingest.domain.platforms.items import as_dict, from_s_or_ms, is_unidentified, str_id, text_of

__all__ = [
    "Enrichment",
    "GraphRead",
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
    sent_at: datetime | None


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
    if author_id is not None or handle is not None:
        author = IncomingAuthor(
            author_id or f"username:{handle}",
            handle=handle,
            display_name=text_of(author_data.get("name")) or None,
        )
    return Enrichment(
        text=text, author=author, sent_at=_time(data.get("timestamp") or data.get("created_time"))
    )


def enriched(msg: IncomingMessage, found: Enrichment) -> IncomingMessage:
    """``msg`` completed with what the Graph API said (what it did not say stays)."""
    return dataclasses.replace(
        msg,
        text=found.text or msg.text,
        author=found.author or msg.author,
        sent_at=found.sent_at or msg.sent_at,
    )


def identified_author(author_id: str, found: Enrichment | None) -> IncomingAuthor | None:
    """Who a late read says wrote a message stored under ``author_id``: only when that is the
    placeholder of an author the platform withheld, and the read names someone (decision 0204).
    A message whose author was known keeps them (the read completed its words only)."""
    if found is None or found.author is None or not is_unidentified(author_id):
        return None
    return None if found.author.platform_user_id == author_id else found.author


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
