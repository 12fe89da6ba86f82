"""Slack's Web API through slack-sdk: chat.postMessage (with the delivery's idempotency key
in message metadata, so a lost answer can be found), chat.update, and the history lookup.

Threads, pacing and parent updates are :mod:`socialdesk_notifier.senders.slack_threads`'s.

Usage::

    api = SlackApi(token="xoxb-...", base_url=None)  # None: the real slack.com
    result = await api.post(delivery, thread_ts=None)
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Final

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk_notifier.domain import Delivery, SendResult
from socialdesk_notifier.domain.slack_errors import classify_slack_error
from socialdesk_notifier.senders.errors import LookupImpossible, LookupThrottled
from socialdesk_schemas import Channel

__all__ = ["SlackApi"]

log = logging.getLogger(__name__)

METADATA_EVENT_TYPE = "socialdesk_notification"
#: A digest's metadata names the tickets it folds, up to this many.
MAX_DIGEST_TICKETS = 300
# Errors of a history read that no retry will fix: whether the post went out can never be
# known this way (issue 7 item 4). The worker then fails the delivery as ``unverifiable``
# rather than retrying forever or posting blind; a person re-drives it.
UNREADABLE_HISTORY_ERRORS = frozenset(
    {
        "missing_scope",
        "not_allowed_token_type",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "account_inactive",
        "channel_not_found",
        "not_in_channel",
        "method_not_supported_for_channel_type",
    }
)


class SlackApi:
    """chat.postMessage with the key in message metadata, chat.update, history lookups."""

    channel: Final[Channel] = "slack"

    def __init__(self, *, token: str, base_url: str | None) -> None:
        url = base_url or AsyncWebClient.BASE_URL
        # Posting retries nothing by itself. A 5xx or a cut connection may come after Slack
        # stored the message, and a 429 asks us to wait longer than a delivery's lease may
        # allow: the delivery worker reschedules all of these (429 after its Retry-After)
        # and looks in the channel history before any retry, so nothing posts twice.
        self._poster = AsyncWebClient(token=token, base_url=url, timeout=10, retry_handlers=[])
        # Reads are safe to retry on anything.
        self._reader = AsyncWebClient(
            token=token,
            base_url=url,
            timeout=10,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(max_retry_count=2),
                AsyncRateLimitErrorRetryHandler(max_retry_count=3),
                AsyncServerErrorRetryHandler(max_retry_count=2),
            ],
        )

    async def post(
        self, delivery: Delivery, *, payload: dict[str, Any] | None = None, thread_ts: str | None = None
    ) -> SendResult:
        """One ``chat.postMessage`` of the delivery (or ``payload``), in a thread if ``thread_ts``."""
        content = payload or delivery.payload
        try:
            response = await self._poster.chat_postMessage(
                channel=delivery.destination,
                text=content["text"],
                blocks=content.get("blocks"),
                thread_ts=thread_ts,
                metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": _metadata(delivery, content)},
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            return _refusal(exc.response)
        except (TimeoutError, OSError) as exc:
            # The post may have reached Slack before the connection failed: look before a retry.
            return SendResult(
                ok=False, error=f"slack unreachable: {type(exc).__name__}: {exc}", ambiguous=True
            )
        return SendResult(ok=True, external_ref=str(response.get("ts")))

    async def update(self, channel: str, ts: str, content: dict[str, Any]) -> SendResult:
        """``chat.update`` of a message we posted (its ts comes from our own thread table)."""
        try:
            await self._poster.chat_update(
                channel=channel, ts=ts, text=content["text"], blocks=content.get("blocks")
            )
        except SlackApiError as exc:
            return _refusal(exc.response)
        except (TimeoutError, OSError) as exc:
            # An update is idempotent: the retry simply sets the same state again.
            return SendResult(ok=False, error=f"slack unreachable: {type(exc).__name__}: {exc}")
        return SendResult(ok=True, external_ref=ts)

    async def find_sent(
        self, delivery: Delivery, *, since: datetime, thread_ts: str | None = None
    ) -> str | None:
        """The ts of an earlier post of this delivery: in the channel's history, or for a
        thread reply (which history does not list) among the replies of ``thread_ts``."""
        cursor: str | None = None
        joined = False
        for _ in range(10):  # bounded: a lease window holds few messages
            try:
                if thread_ts is None:
                    response = await self._reader.conversations_history(
                        channel=delivery.destination,
                        oldest=f"{since.timestamp():.6f}",
                        include_all_metadata=True,
                        limit=200,
                        cursor=cursor,
                    )
                else:
                    response = await self._reader.conversations_replies(
                        channel=delivery.destination,
                        ts=thread_ts,
                        oldest=f"{since.timestamp():.6f}",
                        include_all_metadata=True,
                        limit=200,
                        cursor=cursor,
                    )
            except SlackApiError as exc:
                error = None if exc.response is None else exc.response.get("error")
                # Posting to a public channel needs no membership; reading its history does.
                if error == "not_in_channel" and cursor is None and not joined:
                    joined = True
                    try:
                        await self._reader.conversations_join(channel=delivery.destination)
                    except SlackApiError as join_exc:
                        raise _unreadable(join_exc) from join_exc
                    continue
                raise _unreadable(exc) from exc
            messages: list[dict[str, Any]] = response.get("messages", [])
            for message in messages:
                meta = message.get("metadata") or {}
                if meta.get("event_payload", {}).get("idempotency_key") == delivery.idempotency_key:
                    return str(message.get("ts"))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None


def _metadata(delivery: Delivery, content: dict[str, Any]) -> dict[str, Any]:
    """Our key (how a lost answer is found) and, for a digest, the tickets it stands for."""
    payload: dict[str, Any] = {"idempotency_key": delivery.idempotency_key}
    if content.get("tickets"):
        payload["tickets"] = list(content["tickets"])[:MAX_DIGEST_TICKETS]
    return payload


def _unreadable(exc: SlackApiError) -> Exception:
    """A history error no retry fixes becomes :class:`LookupImpossible`, a 429
    :class:`LookupThrottled` (wait Retry-After, not the back-off); others stay retryable."""
    error = None if exc.response is None else exc.response.get("error")
    if error in UNREADABLE_HISTORY_ERRORS:
        return LookupImpossible(f"slack history unreadable: {error}")
    if error == "ratelimited":
        headers = getattr(exc.response, "headers", None) or {}
        header = headers.get("retry-after") or headers.get("Retry-After")
        try:
            wait = max(1.0, float(header[0] if isinstance(header, list) else header or 1))
        except ValueError:
            wait = 1.0
        return LookupThrottled("slack history rate limited", retry_after=wait)
    return exc


def _refusal(response: Any) -> SendResult:
    """A refused call as the worker needs it: permanent, throttled (and for how long) or transient."""
    if response is None:
        return SendResult(ok=False, error="slack: unknown_error (HTTP 0)")
    status = int(response.status_code)
    error = str(response.get("error", "unknown_error"))
    verdict = classify_slack_error(error, status=status)
    retry_after = None
    if verdict == "throttled":
        headers = response.headers or {}
        header = headers.get("retry-after") or headers.get("Retry-After")
        try:
            retry_after = max(0.0, float(header[0] if isinstance(header, list) else header or 1))
        except ValueError:
            retry_after = 1.0
    return SendResult(
        ok=False,
        error=f"slack: {error} (HTTP {status})",
        permanent=verdict == "permanent",
        retry_after=retry_after,
        # A 429 proves nothing was posted; a 5xx may come after Slack stored the message.
        throttled=verdict == "throttled",
        ambiguous=status >= 500,
        reason=error if verdict == "permanent" else None,
    )
