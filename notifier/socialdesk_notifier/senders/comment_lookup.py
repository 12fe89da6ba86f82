"""The GETs behind :mod:`socialdesk_notifier.domain.comment_lookup`: a comment's replies, page by page.

Used by :class:`socialdesk_notifier.senders.platforms.PlatformSender` before a public comment
reply whose answer was lost is sent again. Its own failures never lead to a send: a network
error or a 5xx raises :class:`EchoPending` (ask again later), a throttle
:class:`CommentLookupThrottled` (ask again after the wait), any other refusal (the comment is
gone, the token may not read it) :class:`LookupImpossible`.

Usage::

    listed = await list_replies(http, base_url, lookup, token=token, since=since, fallback_hold=2.0)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import httpx

from socialdesk_notifier.domain.comment_lookup import (
    CommentLookup,
    ListedComment,
    after_cursor,
    listed_comments,
    reaches_before,
)
from socialdesk_notifier.domain.platform_errors import graph_verdict
from socialdesk_notifier.senders.errors import EchoPending, LookupImpossible, LookupThrottled

__all__ = ["MAX_PAGES", "CommentLookupThrottled", "list_replies"]

#: Pages of replies read at most: a comment with more replies since our attempt than
#: this many pages hold is not searched further (our reply counts as not found).
MAX_PAGES: Final = 3


class CommentLookupThrottled(LookupThrottled):
    """Graph throttled the lookup; ``explicit`` when it said how long (``Retry-After``)."""

    def __init__(self, message: str, retry_after: float, *, explicit: bool, code: int | None) -> None:
        super().__init__(message, retry_after)
        self.explicit = explicit
        self.code = code


async def list_replies(
    http: httpx.AsyncClient,
    base_url: str,
    lookup: CommentLookup,
    *,
    token: str,
    since: datetime,
    fallback_hold: float,
) -> list[ListedComment]:
    """The comment's replies, read until the listing ends, a newest-first listing reaches
    before ``since``, or :data:`MAX_PAGES` were read. Not until a first match: that one may
    be another delivery's reply with the same words (the caller excludes those), and ours
    on a later page."""
    listed: list[ListedComment] = []
    params = dict(lookup.params)
    for _ in range(MAX_PAGES):
        body = await _get(http, base_url.rstrip("/") + lookup.path, params, token, fallback_hold)
        page = listed_comments(body)
        listed.extend(page)
        if lookup.newest_first and reaches_before(page, since):
            break
        cursor = after_cursor(body)
        if cursor is None:
            break
        params = {**lookup.params, "after": cursor}
    return listed


async def _get(
    http: httpx.AsyncClient, url: str, params: dict[str, str], token: str, fallback_hold: float
) -> dict[str, Any]:
    try:
        response = await http.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise EchoPending(f"comment lookup failed ({type(exc).__name__}: {exc}); asking again later") from exc
    try:
        parsed = response.json()
    except ValueError:
        parsed = None
    body: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
    if response.is_success and "error" not in body:
        if not isinstance(body.get("data"), list):
            # A 2xx without Graph's listing (a proxy's page, a cut answer) says nothing of
            # what is there: never read as "no replies", which would let a resend double it.
            raise EchoPending(
                f"comment lookup answered {response.status_code} without a data list; asking again later"
            )
        return body
    error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    verdict = graph_verdict(http_status=response.status_code, code=code, subcode=subcode)
    detail = (
        f"comment lookup refused (HTTP {response.status_code}, code {code}, subcode {subcode}): "
        + str(error.get("message") or response.reason_phrase)[:300]
    )
    if verdict.kind == "throttled":
        header = response.headers.get("retry-after", "")
        explicit = header.isdigit()
        hold = float(header) if explicit else fallback_hold
        raise CommentLookupThrottled(detail, max(1.0, hold), explicit=explicit, code=code)
    if verdict.kind == "transient":
        raise EchoPending(f"{detail}; asking again later")
    # Deleted comment (100/33), a token that may post but not read, ...: we cannot tell
    # whether our reply is there, and a resend might double it.
    raise LookupImpossible(detail)
