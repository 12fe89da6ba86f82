"""Slack interaction requests (issue 11 item 3): verify, then read the button that was pressed.

Verification is slack-sdk's ``SignatureVerifier`` (v0 HMAC-SHA256 over ``v0:{ts}:{body}``,
timestamps more than 5 minutes away refused), with the service's clock passed in.

Usage::

    click = read_click(body, headers, signing_secret=secret, now=clock.now())
    # None: forged, stale or not a button click -> answer 401 and change nothing
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.signature import Clock, SignatureVerifier

__all__ = ["Click", "click_from_payload", "read_click"]


@dataclass(frozen=True, slots=True)
class Click:
    """A verified press of one of our buttons."""

    action_id: str  # "acknowledge", "take_ownership", "claim"
    value: str  # the ticket id the button was built with
    slack_user_id: str
    channel_id: str | None
    message_ts: str | None
    response_url: str | None
    #: What makes this press unique (Slack's action ts, else its trigger id): one effect each.
    click_id: str = ""


class _FixedClock(Clock):
    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> float:
        return self._at.timestamp()


def read_click(
    body: bytes, headers: Mapping[str, str], *, signing_secret: str, now: datetime
) -> Click | None:
    """The click in a signed ``application/x-www-form-urlencoded`` body, or None if refused."""
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp, signature = lower.get("x-slack-request-timestamp", ""), lower.get("x-slack-signature", "")
    if not timestamp.isdigit() or not signature:
        return None
    verifier = SignatureVerifier(signing_secret, clock=_FixedClock(now))
    if not verifier.is_valid(body=body.decode("utf-8", "replace"), timestamp=timestamp, signature=signature):
        return None
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    try:
        payload = json.loads(form["payload"][0])
    except (KeyError, IndexError, ValueError, TypeError):
        return None
    return click_from_payload(payload)


def click_from_payload(payload: Any) -> Click | None:
    """The button press in an (already authenticated) ``block_actions`` payload, or None.

    The HTTP route verifies the signature first; Socket Mode's connection is authenticated
    by the app-level token, so its payloads come here directly.
    """
    try:
        action = payload["actions"][0]
        user = payload["user"]["id"]
    except (KeyError, IndexError, ValueError, TypeError):
        return None
    if payload.get("type") != "block_actions" or not isinstance(user, str) or not isinstance(action, dict):
        return None
    return Click(
        action_id=str(action.get("action_id", "")),
        value=str(action.get("value", "")),
        slack_user_id=user,
        channel_id=(payload.get("channel") or {}).get("id"),
        message_ts=(payload.get("message") or {}).get("ts")
        or (payload.get("container") or {}).get("message_ts"),
        response_url=payload.get("response_url"),
        click_id=str(action.get("action_ts") or payload.get("trigger_id") or ""),
    )
