"""Intake normalisation: pure functions, no IO."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from socialdesk_ingest.intake import parse_intake
from socialdesk_ingest.model import IntakeMessage, clean_text, is_idle, thread_key

BASE = {
    "brand": " OurBus ",
    "platform": "x",
    "kind": "dm",
    "platform_message_id": "m1",
    "author": {"platform_user_id": "u1"},
    "text": "hi",
}


def test_clean_text_replaces_lone_surrogates_and_drops_control_characters() -> None:
    assert clean_text("a\ud83db\x00c\x07d\ne\tf") == "a\ufffdbcd\ne\tf"
    assert clean_text("🚌 ok") == "🚌 ok"


def test_brand_is_normalised_and_unknown_platform_refused() -> None:
    assert IntakeMessage.model_validate(BASE).brand == "ourbus"
    with pytest.raises(ValidationError):
        IntakeMessage.model_validate({**BASE, "platform": "myspace"})


def test_parse_accepts_lone_surrogate_escapes_platforms_send() -> None:
    raw = (
        b'{"brand":"ourbus","platform":"x","kind":"dm","platform_message_id":"m1",'
        b'"author":{"platform_user_id":"u1"},"text":"late \\ud83d"}'
    )
    assert parse_intake(raw).text == "late \ufffd"
    with pytest.raises(ValueError, match="Expecting"):
        parse_intake(b'{"text": "\\ud83d", ')


def test_thread_key_separates_private_and_public_conversations() -> None:
    dm = IntakeMessage.model_validate(BASE)
    comment = IntakeMessage.model_validate({**BASE, "kind": "comment"})
    mention = IntakeMessage.model_validate({**BASE, "kind": "mention"})
    assert thread_key(dm) != thread_key(comment)
    assert thread_key(comment) == thread_key(mention)


def test_idle_limit() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert not is_idle(t0, t0 + timedelta(hours=24), 24 * 3600)
    assert is_idle(t0, t0 + timedelta(hours=24, seconds=1), 24 * 3600)
