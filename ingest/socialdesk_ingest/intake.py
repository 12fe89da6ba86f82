"""``POST /v1/messages``: the generic intake for any source (thin: parse, auth, call handler)."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from socialdesk_ingest.batching import IntakeBatcher
from socialdesk_ingest.handlers import Offer
from socialdesk_ingest.metrics import IngestMetrics
from socialdesk_ingest.model import IntakeMessage


def _error(status: int, error: str, detail: object) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "detail": detail})


def intake_router(
    *,
    batcher: IntakeBatcher,
    api_keys: Callable[[], list[str]],
    known_brands: frozenset[str],
    metrics: IngestMetrics,
) -> APIRouter:
    router = APIRouter()

    def authorised(request: Request) -> bool:
        offered = request.headers.get("x-api-key", "")
        if not offered:
            auth = request.headers.get("authorization", "")
            offered = auth[7:] if auth.lower().startswith("bearer ") else ""
        if not offered:
            return False
        # Compare against every key in constant time (no early exit on the first match).
        return sum(hmac.compare_digest(offered.encode(), k.encode()) for k in api_keys()) > 0

    @router.post("/v1/messages", status_code=202)
    async def post_message(request: Request) -> JSONResponse:
        started = time.perf_counter()
        if not authorised(request):
            metrics.messages_received.labels(platform="unknown", outcome="unauthorized").inc()
            return JSONResponse(
                status_code=401,
                content={"error": "unauthorized", "detail": "missing or wrong API key (X-API-Key header)"},
                headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
            )
        raw = await request.body()
        try:
            msg = parse_intake(raw)
        except ValidationError as exc:
            metrics.messages_received.labels(platform="unknown", outcome="invalid").inc()
            return _error(400, "invalid_body", _reasons(exc, raw))
        except ValueError as exc:
            metrics.messages_received.labels(platform="unknown", outcome="invalid").inc()
            return _error(400, "invalid_body", f"body is not valid JSON: {exc}")
        if msg.brand not in known_brands:
            metrics.messages_received.labels(platform=msg.platform, outcome="invalid").inc()
            return _error(400, "unknown_brand", f"brand {msg.brand!r} is not configured")

        accepted = await batcher.submit(Offer(msg, raw))
        outcome = "duplicate" if accepted.duplicate else "accepted"
        metrics.messages_received.labels(platform=msg.platform, outcome=outcome).inc()
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


def parse_intake(raw: bytes) -> IntakeMessage:
    """Validate a body; tolerate the lone UTF-16 surrogate escapes platforms send.

    The fast parser refuses ``"\\ud83d"`` without its pair; the standard library accepts it
    and the model then replaces it, so a customer's message is never refused for it.
    """
    try:
        return IntakeMessage.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if not (errors and errors[0]["type"] == "json_invalid" and b"\\u" in raw):
            raise
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from None
    return IntakeMessage.model_validate(data)


def _reasons(exc: ValidationError, raw: bytes) -> list[dict[str, str]] | str:
    errors = exc.errors(include_url=False)
    if errors and errors[0]["type"] == "json_invalid":
        return f"body is not valid JSON: {errors[0].get('ctx', {}).get('error', errors[0]['msg'])}"
    if errors and errors[0]["type"] == "model_type":
        return f"body must be a JSON object, got {type(json.loads(raw)).__name__}"
    return [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in errors]
