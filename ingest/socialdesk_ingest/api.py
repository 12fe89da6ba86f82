"""``POST /v1/messages``: the generic intake for any source (thin: auth, parse, submit).

The body's schema (:class:`IntakeBody`) is this source's wire format; it becomes the
domain's :class:`~socialdesk_ingest.domain.IncomingMessage`, as a platform webhook's
payload will.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Mapping
from typing import Annotated, Any

import orjson
from fastapi import APIRouter
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from starlette.types import Receive, Scope, Send

from socialdesk_ingest.batching import IntakeBatcher, IntakeOverloaded
from socialdesk_ingest.domain import (
    MAX_TEXT_CHARS,
    Accepted,
    IncomingAuthor,
    IncomingMessage,
    api_key_matches,
    clean_text,
)
from socialdesk_ingest.handlers import Offer
from socialdesk_ingest.metrics import IngestMetrics
from socialdesk_ingest.raw_routes import raw_post
from socialdesk_ingest.webhook_receiver import RETRY_AFTER_SECONDS
from socialdesk_runtime.errors import is_transient
from socialdesk_schemas import Kind, Platform

__all__ = ["IntakeBody", "intake_router", "parse_intake"]


def _clean(value: object) -> object:
    return clean_text(value) if isinstance(value, str) else value


# Cleaned before validation: pydantic refuses a str holding a lone surrogate.
_Clean = BeforeValidator(_clean)
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256), _Clean]
Name = Annotated[str, StringConstraints(max_length=256), _Clean]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS), _Clean]


class IntakeAuthor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    platform_user_id: Id
    handle: Name | None = None
    display_name: Name | None = None
    followers: int | None = Field(default=None, ge=0, le=2**31 - 1)  # the store's int4
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None


class IntakeBody(BaseModel):
    """``POST /v1/messages``: one customer message from any source."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    brand: Annotated[
        str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=64)
    ]
    platform: Platform
    kind: Kind
    platform_message_id: Id
    author: IntakeAuthor
    text: Text
    sent_at: AwareDatetime | None = None
    in_reply_to: Id | None = Field(default=None, description="platform id of the post or message replied to")

    def incoming(self) -> IncomingMessage:
        a = self.author
        return IncomingMessage(
            brand=self.brand,
            platform=self.platform,
            kind=self.kind,
            platform_message_id=self.platform_message_id,
            author=IncomingAuthor(a.platform_user_id, a.handle, a.display_name, a.followers, phone=a.phone),
            text=self.text,
            sent_at=self.sent_at,
            in_reply_to=self.in_reply_to,
        )


Answer = tuple[int, dict[str, Any], tuple[tuple[str, str], ...]]
_UNAUTHORIZED: Answer = (
    401,
    {"error": "unauthorized", "detail": "missing or wrong API key (X-API-Key header)"},
    (("WWW-Authenticate", 'ApiKey header="X-API-Key"'),),
)


def _error(status: int, error: str, detail: object) -> Answer:
    return status, {"error": error, "detail": detail}, ()


def _offered_key(headers: Mapping[str, str]) -> str:
    offered = headers.get("x-api-key", "")
    if not offered:
        auth = headers.get("authorization", "")
        offered = auth[7:] if auth.lower().startswith("bearer ") else ""
    return offered


class _Intake:
    """What ``POST /v1/messages`` does, whatever serves it: authorise (before the body is
    read), then parse and submit a body already read. Answers (status, JSON, headers)."""

    def __init__(
        self,
        *,
        batcher: IntakeBatcher[Offer, Accepted],
        api_keys: Callable[[], Collection[str]],
        known_brands: frozenset[str],
        metrics: IngestMetrics,
        max_body_bytes: int,
    ) -> None:
        self.batcher = batcher
        self.api_keys = api_keys
        self.known_brands = known_brands
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    def authorized(self, headers: Mapping[str, str]) -> bool:
        if api_key_matches(_offered_key(headers), self.api_keys()):
            return True
        self.metrics.messages_received.labels(platform="unknown", outcome="unauthorized").inc()
        return False

    def too_large(self) -> Answer:
        self.metrics.messages_received.labels(platform="unknown", outcome="invalid").inc()
        return _error(413, "payload_too_large", f"request body exceeds {self.max_body_bytes} bytes")

    async def accept(self, raw: bytes, started: float) -> Answer:
        metrics = self.metrics
        try:
            body = parse_intake(raw)
        except ValidationError as exc:
            metrics.messages_received.labels(platform="unknown", outcome="invalid").inc()
            return _error(400, "invalid_body", _reasons(exc, raw))
        except ValueError as exc:
            metrics.messages_received.labels(platform="unknown", outcome="invalid").inc()
            return _error(400, "invalid_body", f"body is not valid JSON: {exc}")
        if body.brand not in self.known_brands:
            metrics.messages_received.labels(platform=body.platform, outcome="invalid").inc()
            return _error(400, "unknown_brand", f"brand {body.brand!r} is not configured")
        try:
            accepted = await self.batcher.submit(Offer(body.incoming(), raw))
        except IntakeOverloaded as exc:
            metrics.messages_received.labels(platform=body.platform, outcome="unavailable").inc()
            return _unavailable(str(exc))
        except Exception as exc:
            if not is_transient(exc):
                raise
            # Nothing was stored: 503 with Retry-After tells the sender to come back.
            metrics.messages_received.labels(platform=body.platform, outcome="unavailable").inc()
            return _unavailable("the message could not be stored; try again")
        outcome = "duplicate" if accepted.duplicate else "accepted"
        metrics.messages_received.labels(platform=body.platform, outcome=outcome).inc()
        metrics.request_seconds.observe(time.perf_counter() - started)
        content = {
            "status": outcome,
            "message_id": str(accepted.message_id),
            "ticket_id": str(accepted.ticket_id),
            "opens_ticket": accepted.opens_ticket,
        }
        return (200 if accepted.duplicate else 202), content, ()


def _unavailable(detail: str) -> Answer:
    return 503, {"error": "unavailable", "detail": detail}, (("Retry-After", str(RETRY_AFTER_SECONDS)),)


class _IntakeReceiver:
    """``POST /v1/messages`` as a raw ASGI route (the hot path: no FastAPI request objects
    or dependency solving per message)."""

    def __init__(self, intake: _Intake) -> None:
        self._intake = intake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        intake = self._intake
        if not intake.authorized(headers):
            await _send(send, _UNAUTHORIZED)
            return
        declared = headers.get("content-length", "")
        raw = None
        if not (declared.isdigit() and int(declared) > intake.max_body_bytes):
            raw = await _read(receive, intake.max_body_bytes)
        await _send(send, intake.too_large() if raw is None else await intake.accept(raw, started))


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or ``None`` as soon as it exceeds ``limit``."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _send(send: Send, answer: Answer) -> None:
    status, content, extra = answer
    payload = orjson.dumps(content)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def intake_router(
    *,
    batcher: IntakeBatcher[Offer, Accepted],
    api_keys: Callable[[], Collection[str]],
    known_brands: frozenset[str],
    metrics: IngestMetrics,
    max_body_bytes: int = 1024 * 1024,
) -> APIRouter:
    """The intake route. ``api_keys`` is read per request, so keys rotate without a restart.

    Served by a raw ASGI route (:func:`~socialdesk_ingest.raw_routes.raw_post`)."""
    intake = _Intake(
        batcher=batcher,
        api_keys=api_keys,
        known_brands=known_brands,
        metrics=metrics,
        max_body_bytes=max_body_bytes,
    )
    router = APIRouter()
    raw_post(
        router,
        "/v1/messages",
        _IntakeReceiver(intake),
        summary="Offer one customer message from any source",
        status_code=202,
        body_schema=IntakeBody.model_json_schema(),
    )
    return router


def parse_intake(raw: bytes) -> IntakeBody:
    """Validate a body; tolerate the lone UTF-16 surrogate escapes platforms send.

    The fast parser refuses ``"\\ud83d"`` without its pair; the standard library accepts it
    and the model then replaces it, so a customer's message is never refused for it.
    """
    try:
        return IntakeBody.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if not (errors and errors[0]["type"] == "json_invalid" and b"\\u" in raw):
            raise
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from None
    return IntakeBody.model_validate(data)


def _reasons(exc: ValidationError, raw: bytes) -> list[dict[str, str]] | str:
    errors = exc.errors(include_url=False)
    if errors and errors[0]["type"] == "json_invalid":
        return f"body is not valid JSON: {errors[0].get('ctx', {}).get('error', errors[0]['msg'])}"
    if errors and errors[0]["type"] == "model_type":
        return f"body must be a JSON object, got {type(json.loads(raw)).__name__}"
    return [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in errors]
