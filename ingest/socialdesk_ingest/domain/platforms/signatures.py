"""Webhook signatures: Meta (hex HMAC-SHA256 of the raw body with the app secret) and X
(base64 HMAC-SHA256 with the consumer secret, and the CRC challenge). Pure functions.

Every comparison is constant time and runs against every configured secret (no early
exit on the first match), so timing says nothing about which secret, if any, is close.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

__all__ = ["meta_signature", "verify_meta", "verify_x", "x_crc_response", "x_signature"]


def meta_signature(raw: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def x_signature(raw: bytes, secret: str) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def _any_matches(offered: str, expected: Iterable[str]) -> bool:
    ok = False
    for candidate in expected:
        ok |= hmac.compare_digest(offered.encode(), candidate.encode())
    return ok


def verify_meta(raw: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """``X-Hub-Signature-256: sha256=<64 lowercase hex>`` against each app secret."""
    if not header or not header.startswith("sha256="):
        return False
    offered = "sha256=" + header[7:].strip().lower()
    return _any_matches(offered, (meta_signature(raw, s) for s in secrets if s))


def verify_x(raw: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """``x-twitter-webhooks-signature: sha256=<base64>`` against each consumer secret."""
    if not header or not header.startswith("sha256="):
        return False
    return _any_matches(header.strip(), (x_signature(raw, s) for s in secrets if s))


def x_crc_response(crc_token: str, secret: str) -> str:
    """The ``response_token`` for X's CRC check: ``sha256=`` + base64 HMAC of the token."""
    return x_signature(crc_token.encode(), secret)
