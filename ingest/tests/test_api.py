"""The intake body's parsing (no database, no HTTP)."""

import pytest
from pydantic import ValidationError

from socialdesk_ingest.api import parse_intake

BASE = (
    b'{"brand":" OurBus ","platform":"x","kind":"dm","platform_message_id":"m1",'
    b'"author":{"platform_user_id":"u1","handle":"ana\\u0000"},"text":"%s"}'
)


def test_body_becomes_a_normalised_incoming_message() -> None:
    incoming = parse_intake(BASE % b"hi\\u0000 there").incoming()
    assert (incoming.brand, incoming.text, incoming.author.handle) == ("ourbus", "hi there", "ana")


def test_unknown_platform_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_intake(BASE.replace(b'"x"', b'"myspace"') % b"hi")


def test_parse_accepts_lone_surrogate_escapes_platforms_send() -> None:
    assert parse_intake(BASE % b"late \\ud83d").text == "late \ufffd"
    with pytest.raises(ValueError, match="Expecting"):
        parse_intake(b'{"text": "\\ud83d", ')


def test_text_over_the_limit_is_refused() -> None:
    with pytest.raises(ValidationError, match="text"):
        parse_intake(BASE % (b"x" * 64_001))
