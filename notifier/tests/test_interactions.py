import hashlib
import hmac
import json
import urllib.parse
from datetime import UTC, datetime, timedelta

from socialdesk_notifier.interactions import read_click

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def _signed(
    payload: dict[str, object], *, at: datetime = NOW, secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(at.timestamp()))
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return body, {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


CLICK = {
    "type": "block_actions",
    "user": {"id": "U0OBDEE"},
    "channel": {"id": "C0WARN"},
    "message": {"ts": "1764298800.000100"},
    "response_url": "http://slack.test/respond/1",
    "actions": [{"action_id": "acknowledge", "value": "3f1c6f0e-0000-4000-8000-000000000001"}],
}


def test_a_signed_click_is_read() -> None:
    body, headers = _signed(CLICK)
    click = read_click(body, headers, signing_secret=SECRET, now=NOW)
    assert click is not None
    assert (click.action_id, click.slack_user_id, click.channel_id) == ("acknowledge", "U0OBDEE", "C0WARN")
    assert click.value.startswith("3f1c6f0e")
    assert click.message_ts == "1764298800.000100"


def test_a_forged_signature_is_refused() -> None:
    body, headers = _signed(CLICK, secret="not-the-secret")
    assert read_click(body, headers, signing_secret=SECRET, now=NOW) is None


def test_a_tampered_body_is_refused() -> None:
    body, headers = _signed(CLICK)
    assert read_click(body.replace(b"U0OBDEE", b"U0BOSS1"), headers, signing_secret=SECRET, now=NOW) is None


def test_a_click_older_than_five_minutes_is_refused() -> None:
    body, headers = _signed(CLICK, at=NOW - timedelta(minutes=6))
    assert read_click(body, headers, signing_secret=SECRET, now=NOW) is None
    assert read_click(body, headers, signing_secret=SECRET, now=NOW - timedelta(minutes=5)) is not None


def test_missing_headers_or_not_a_button_is_refused() -> None:
    body, _ = _signed(CLICK)
    assert read_click(body, {}, signing_secret=SECRET, now=NOW) is None
    body, headers = _signed({**CLICK, "type": "view_submission"})
    assert read_click(body, headers, signing_secret=SECRET, now=NOW) is None
