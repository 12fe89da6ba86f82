"""Outward senders: Slack through slack-sdk, and the labelled local sink.

Each sender answers one question besides sending: "did this idempotency key already go
out?" so that a delivery abandoned by a crash after the send is not sent twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

# Errors that no retry will fix: the message is given up on, and said so.
PERMANENT_SLACK_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "restricted_action",
        "invalid_arguments",
    }
)
METADATA_EVENT_TYPE = "socialdesk_notification"


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    external_ref: str | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None


class Sender(Protocol):
    channel: str

    async def send(
        self, *, destination: str, payload: dict[str, Any], idempotency_key: str
    ) -> SendResult: ...

    async def find_sent(
        self, *, destination: str, idempotency_key: str, since_epoch: float
    ) -> str | None: ...


class SlackSender:
    """chat.postMessage with the key in message metadata, so a lost answer can be found."""

    channel = "slack"

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

    async def send(self, *, destination: str, payload: dict[str, Any], idempotency_key: str) -> SendResult:
        try:
            response = await self._poster.chat_postMessage(
                channel=destination,
                text=payload["text"],
                blocks=payload.get("blocks"),
                metadata={
                    "event_type": METADATA_EVENT_TYPE,
                    "event_payload": {"idempotency_key": idempotency_key},
                },
                unfurl_links=False,
            )
        except SlackApiError as exc:
            error = (
                str(exc.response.get("error", "unknown_error"))
                if exc.response is not None
                else "unknown_error"
            )
            status = exc.response.status_code if exc.response is not None else 0
            retry_after = None
            if status == 429 and exc.response is not None:
                header = (exc.response.headers or {}).get("retry-after") or (exc.response.headers or {}).get(
                    "Retry-After"
                )
                retry_after = float(header[0] if isinstance(header, list) else header or 1)
            return SendResult(
                ok=False,
                error=f"slack: {error} (HTTP {status})",
                permanent=error in PERMANENT_SLACK_ERRORS,
                retry_after=retry_after,
            )
        except (TimeoutError, OSError) as exc:
            return SendResult(ok=False, error=f"slack unreachable: {type(exc).__name__}: {exc}")
        return SendResult(ok=True, external_ref=str(response.get("ts")))

    async def find_sent(self, *, destination: str, idempotency_key: str, since_epoch: float) -> str | None:
        cursor: str | None = None
        for _ in range(10):  # bounded: a lease window holds few messages
            try:
                response = await self._reader.conversations_history(
                    channel=destination,
                    oldest=f"{since_epoch:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            except SlackApiError as exc:
                # Posting to a public channel needs no membership; reading its history does.
                if exc.response is None or exc.response.get("error") != "not_in_channel":
                    raise
                await self._reader.conversations_join(channel=destination)
                continue
            for message in response.get("messages", []):
                meta = message.get("metadata") or {}
                if meta.get("event_payload", {}).get("idempotency_key") == idempotency_key:
                    return str(message.get("ts"))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None


class LocalSink:
    """Where deliveries go with no credentials: a JSON-lines file, clearly labelled.

    Used for Slack without a token and for platform replies until platform send APIs are
    configured. Nothing here pretends to have reached a customer or a channel.
    """

    def __init__(self, path: Path, *, channel: str) -> None:
        self.channel = channel
        self._path = path
        self._path.parent.mkdir(parents=True, exist_ok=True)

    async def send(self, *, destination: str, payload: dict[str, Any], idempotency_key: str) -> SendResult:
        record = {
            "sink": "LOCAL SINK (not delivered to any real service)",
            "channel": self.channel,
            "destination": destination,
            "idempotency_key": idempotency_key,
            "text": payload.get("text"),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        await asyncio.to_thread(self._append, line)
        log.info("LOCAL SINK %s → %s: %s", self.channel, destination, payload.get("text"))
        return SendResult(ok=True, external_ref=f"local:{idempotency_key}")

    def _append(self, line: str) -> None:
        with self._path.open("a", encoding="utf-8") as fh:
            fh.write(line)

    async def find_sent(self, *, destination: str, idempotency_key: str, since_epoch: float) -> str | None:
        def scan() -> str | None:
            if not self._path.exists():
                return None
            needle = json.dumps(idempotency_key)
            with self._path.open(encoding="utf-8") as fh:
                for line in fh:
                    if needle in line:
                        return f"local:{idempotency_key}"
            return None

        return await asyncio.to_thread(scan)
