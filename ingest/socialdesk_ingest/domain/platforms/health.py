"""Channel health: which accounts to check, how, and what an answer means. Pure.

A check reads the account itself with its token (Graph ``GET /<id>?fields=id``, X
``GET /2/users/me``). An expired or revoked token, or a permission the app lost, means
messages will stop: it is reported at once. A network failure or a 5xx says nothing
about the channel (it is counted, the state is kept).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from socialdesk_ingest.domain.platforms.items import as_dict
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_schemas import Platform

__all__ = ["Channel", "Verdict", "channel_ticket", "channels", "graph_verdict", "x_verdict"]

Problem = Literal["token_expired", "permission_missing", "token_missing"]
_CHANNELS = uuid.UUID("0c7e6f2e-2b7a-4f55-9a53-1d3c8f4f8e10")

#: Graph error codes: 190 invalid/expired token (102, 463, 467 older spellings of it);
#: 10 and 200–299 a permission the app or token lacks; 3 capability missing.
_TOKEN_CODES = frozenset({190, 102, 463, 467})


def _permission_code(code: int) -> bool:
    return code in (3, 10) or 200 <= code <= 299


@dataclass(frozen=True, slots=True)
class Channel:
    brand: str
    platform: Platform
    account_id: str
    token_env: str | None


@dataclass(frozen=True, slots=True)
class Verdict:
    healthy: bool | None
    """``None``: the check said nothing (network, 5xx, throttled): keep the last state."""
    problem: Problem | None = None
    error_code: int | None = None
    detail: str | None = None


def channels(config: SocialdeskConfig) -> list[Channel]:
    out: list[Channel] = []
    for brand in config.brands:
        a = brand.accounts
        if a.facebook is not None:
            out.append(Channel(brand.id, "facebook", a.facebook.page_id, a.facebook.page_token_env))
        if a.instagram is not None:
            out.append(Channel(brand.id, "instagram", a.instagram.account_id, a.instagram.access_token_env))
        if a.whatsapp is not None:
            out.append(Channel(brand.id, "whatsapp", a.whatsapp.phone_number_id, a.whatsapp.access_token_env))
        if a.x is not None:
            out.append(Channel(brand.id, "x", a.x.user_id, a.x.bearer_token_env))
    return out


def channel_ticket(channel: Channel) -> uuid.UUID:
    return uuid.uuid5(_CHANNELS, f"{channel.brand}/{channel.platform}/{channel.account_id}")


def graph_verdict(status: int, body: Any) -> Verdict:
    if status == 200:
        return Verdict(True)
    error = as_dict(as_dict(body).get("error"))
    code = error.get("code")
    message = str(error.get("message", ""))[:300] or None
    if isinstance(code, int) and not isinstance(code, bool):
        if code in _TOKEN_CODES:
            return Verdict(False, "token_expired", code, message)
        if _permission_code(code):
            return Verdict(False, "permission_missing", code, message)
    if status == 401:
        return Verdict(False, "token_expired", code if isinstance(code, int) else None, message)
    return Verdict(
        None, error_code=code if isinstance(code, int) else None, detail=message or f"HTTP {status}"
    )


def x_verdict(status: int, body: Any) -> Verdict:
    if status == 200:
        return Verdict(True)
    detail = str(as_dict(body).get("detail") or as_dict(body).get("title") or f"HTTP {status}")[:300]
    if status == 401:
        return Verdict(False, "token_expired", 401, detail)
    if status == 403:
        return Verdict(False, "permission_missing", 403, detail)
    return Verdict(None, error_code=status, detail=detail)
