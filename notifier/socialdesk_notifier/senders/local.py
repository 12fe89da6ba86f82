"""The labelled local sink: where deliveries go when no outside channel is configured.

Usage::

    sink = LocalSink(Path(".socialdesk/local-sink.jsonl"))
    await sink.send(delivery)  # one JSON line, labelled LOCAL SINK
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Final

from socialdesk_notifier.domain import Delivery, SendResult
from socialdesk_schemas import Channel

__all__ = ["LocalSink"]

log = logging.getLogger(__name__)


class LocalSink:
    """Where deliveries go with no credentials: a JSON-lines file, clearly labelled.

    Used for Slack without a token and for platform replies until platform send APIs are
    configured. Nothing here pretends to have reached a customer or a channel.
    """

    channel: Final[Channel] = "local"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._path.parent.mkdir(parents=True, exist_ok=True)

    async def send(self, delivery: Delivery) -> SendResult:
        text = delivery.payload.get("text")
        record = {
            "sink": "LOCAL SINK (not delivered to any real service)",
            "channel": self.channel,
            "destination": delivery.destination,
            "idempotency_key": delivery.idempotency_key,
            "text": text,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        await asyncio.to_thread(self._append, line)
        if delivery.is_reply:
            # A customer's reply and their id stay out of the logs at INFO (issue 11).
            log.info("LOCAL SINK %s reply %s (%d characters)", delivery.channel, delivery.id, len(text or ""))
            log.debug("LOCAL SINK %s → %s: %s", delivery.channel, delivery.destination, text)
        else:
            log.info("LOCAL SINK %s → %s: %s", delivery.channel, delivery.destination, text)
        return SendResult(ok=True, external_ref=f"local:{delivery.idempotency_key}")

    def _append(self, line: str) -> None:
        with self._path.open("a", encoding="utf-8") as fh:
            fh.write(line)

    async def find_sent(self, delivery: Delivery, *, since: datetime) -> str | None:
        # The file keeps every line ever sent: no need to narrow by ``since``.
        key = delivery.idempotency_key

        def scan() -> str | None:
            if not self._path.exists():
                return None
            needle = json.dumps(key)
            with self._path.open(encoding="utf-8") as fh:
                for line in fh:
                    if needle in line:
                        return f"local:{key}"
            return None

        return await asyncio.to_thread(scan)
