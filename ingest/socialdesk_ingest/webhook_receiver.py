"""``POST /v1/webhooks/{meta,x}`` as a raw ASGI endpoint: the acknowledgement hot path.

Platforms time this answer (Meta retries, then disables a slow endpoint), so the path
does only what the acknowledgement needs, without FastAPI's request objects,
dependency solving or response classes: size (declared, then streamed) → signature over
the raw bytes, constant time, against every configured secret → JSON syntax → the raw
body handed to the group commit (:class:`~socialdesk_ingest.batching.IntakeBatcher`) →
200 once *its* commit is done. Answers: 413, 401, 400, 200; 503 with ``Retry-After``
when it cannot be stored. Nothing is parsed into objects here: the extraction worker
reads the stored body later (decision 0201).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Literal

import orjson
from prometheus_client import Counter
from starlette.types import Message, Receive, Scope, Send

from socialdesk_ingest.batching import IntakeBatcher, IntakeOverloaded
from socialdesk_ingest.metrics import IngestMetrics
from socialdesk_runtime.errors import is_transient

__all__ = ["RETRY_AFTER_SECONDS", "Source", "Verify", "WebhookReceiver"]

RETRY_AFTER_SECONDS = 5

Source = Literal["meta", "x"]
Verify = Callable[[bytes, str | None, list[str]], bool]

_OUTCOMES = ("stored", "unauthorized", "invalid", "too_large", "unavailable")
_OK_HEAD: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"14")],
}
_OK_BODY: Message = {"type": "http.response.body", "body": b"EVENT_RECEIVED"}


class _TooLarge(Exception):
    pass


class WebhookReceiver:
    """One platform's delivery route, as an ASGI app (mounted as a plain Starlette route).

    ``secrets`` is read per request (rotation needs no restart); ``verify(raw, header,
    secrets)`` is the platform's signature check; ``header`` its lower-case name.
    """

    def __init__(
        self,
        source: Source,
        *,
        header: str,
        verify: Verify,
        secrets: Callable[[], list[str]],
        max_bytes: int,
        batcher: IntakeBatcher[tuple[str, bytes], int],
        metrics: IngestMetrics,
    ) -> None:
        self._source = source
        self._header = header.lower().encode()
        self._display_header = header
        self._verify = verify
        self._secrets = secrets
        self._max = max_bytes
        self._batcher = batcher
        # Label children bound once: a labels() lookup per request is measurable here.
        self._count: dict[str, Counter] = {
            o: metrics.webhook_requests.labels(platform=source, outcome=o) for o in _OUTCOMES
        }
        self._ack = metrics.webhook_ack_seconds.labels(platform=source)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        signature: str | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self._max:
                    await self._refuse_too_large(send)
                    return
            elif name == self._header:
                signature = value.decode("latin-1")
        try:
            raw = await self._body(receive)
        except _TooLarge:
            await self._refuse_too_large(send)
            return
        if not self._verify(raw, signature, self._secrets()):
            self._count["unauthorized"].inc()
            await _json(send, 401, "unauthorized", f"missing or wrong {self._display_header}")
            return
        if not _is_json(raw):
            self._count["invalid"].inc()
            await _json(send, 400, "invalid_body", "body is not JSON")
            return
        try:
            await self._batcher.submit((self._source, raw))
        except IntakeOverloaded as exc:
            self._count["unavailable"].inc()
            await _unavailable(send, str(exc))
            return
        except Exception as exc:
            if not is_transient(exc):
                raise
            self._count["unavailable"].inc()
            await _unavailable(send, "the delivery could not be stored; try again")
            return
        self._count["stored"].inc()
        self._ack.observe(time.perf_counter() - started)
        await send(_OK_HEAD)
        await send(_OK_BODY)

    async def _body(self, receive: Receive) -> bytes:
        message = await receive()
        body: bytes = message.get("body", b"")
        if len(body) > self._max:
            raise _TooLarge
        if not message.get("more_body", False):
            return body  # the common case: one chunk, no copy
        chunks = [body]
        size = len(body)
        while message.get("more_body", False):
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    async def _refuse_too_large(self, send: Send) -> None:
        self._count["too_large"].inc()
        await _json(send, 413, "payload_too_large", f"body exceeds {self._max} bytes")


def _is_json(raw: bytes) -> bool:
    """Whether ``raw`` is JSON as the extraction reads it (the standard library's parser).

    orjson, the fast path, refuses a lone UTF-16 surrogate escape (half an emoji), which
    JSON's grammar allows and platforms send; refusing would lose the whole POST, and every
    retry of it, over one character (the extraction replaces it: ``clean_text``)."""
    try:
        orjson.loads(raw)
        return True
    except orjson.JSONDecodeError:
        pass
    try:
        json.loads(raw)
        return True
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return False


async def _json(
    send: Send, status: int, error: str, detail: str, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    payload = orjson.dumps({"error": error, "detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _unavailable(send: Send, detail: str) -> None:
    """503 with ``Retry-After``: nothing was stored, the sender should try again."""
    await _json(send, 503, "unavailable", detail, ((b"retry-after", str(RETRY_AFTER_SECONDS).encode()),))
