"""``POST /v1/messages``: the generic intake for any source (thin: auth, parse, submit).

The body's schema (:class:`IntakeBody`) is this source's wire format; it becomes the
domain's :class:`~socialdesk_ingest.domain.IncomingMessage`, as a platform webhook's
payload will.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from socialdesk_ingest.api_webhooks import BodyTooLarge, read_limited, unavailable
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


def _error(status: int, error: str, detail: object) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "detail": detail})


def _offered_key(request: Request) -> str:
    offered = request.headers.get("x-api-key", "")
    if not offered:
        auth = request.headers.get("authorization", "")
        offered = auth[7:] if auth.lower().startswith("bearer ") else ""
    return offered


def intake_router(
    *,
    batcher: IntakeBatcher[Offer, Accepted],
    api_keys: Callable[[], Collection[str]],
    known_brands: frozenset[str],
    metrics: IngestMetrics,
    max_body_bytes: int = 1024 * 1024,
) -> APIRouter:
    """The intake route. ``api_keys`` is read per request, so keys rotate without a restart."""
    router = APIRouter()

    @router.post("/v1/messages", status_code=202)
    async def post_message(request: Request) -> JSONResponse:
        started = time.perf_counter()
        if not api_key_matches(_offered_key(request), api_keys()):
            metrics.messages_received.labels(platform="unknown", outcome="unauthorized").inc()
            return JSONResponse(
                status_code=401,
                content={"error": "unauthorized", "detail": "missing or wrong API key (X-API-Key header)"},
                headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
            )
        try:
            raw = await read_limited(request, max_body_bytes)
        except BodyTooLarge:
            metrics.messages_received.labels(platform="unknown", outcome="invalid").inc()
            return _error(413, "payload_too_large", f"request body exceeds {max_body_bytes} bytes")
        try:
            body = parse_intake(raw)
        except ValidationError as exc:
            metrics.messages_received.labels(platform="unknown", outcome="invalid").inc()
            return _error(400, "invalid_body", _reasons(exc, raw))
        except ValueError as exc:
            metrics.messages_received.labels(platform="unknown", outcome="invalid").inc()
            return _error(400, "invalid_body", f"body is not valid JSON: {exc}")
        if body.brand not in known_brands:
            metrics.messages_received.labels(platform=body.platform, outcome="invalid").inc()
            return _error(400, "unknown_brand", f"brand {body.brand!r} is not configured")

        try:
            accepted = await batcher.submit(Offer(body.incoming(), raw))
        except IntakeOverloaded as exc:
            metrics.messages_received.labels(platform=body.platform, outcome="unavailable").inc()
            return unavailable(str(exc))
        except Exception as exc:
            if not is_transient(exc):
                raise
            # Nothing was stored: 503 with Retry-After tells the sender to come back.
            metrics.messages_received.labels(platform=body.platform, outcome="unavailable").inc()
            return unavailable("the message could not be stored; try again")
        outcome = "duplicate" if accepted.duplicate else "accepted"
        metrics.messages_received.labels(platform=body.platform, outcome=outcome).inc()
        metrics.request_seconds.observe(time.perf_counter() - started)
        return JSONResponse(
            status_code=200 if accepted.duplicate else 202,
            content={
                "status": outcome,
                "message_id": str(accepted.message_id),
                "ticket_id": str(accepted.ticket_id),
                "opens_ticket": accepted.opens_ticket,
            },
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
