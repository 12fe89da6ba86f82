"""Saved replies by platform: where they may be used and in which platform's tone (plain data)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from socialdesk_assigner.domain.replies import auto_reply_text, saved_replies_for, saved_reply_for, text_in
from socialdesk_runtime.config import SavedReply, SocialdeskConfig

DELAY = {
    "title": "Delay apology",
    "text": {
        "en": "We are sorry your bus is late, {customer_name}. Here is what we know so far.",
        "es": "Lo sentimos.",
    },
    "tone": {
        "x": {"en": "Sorry for the delay! DM us your booking number and we'll sort it."},
        "instagram": {"en": "So sorry about the wait, {customer_name} 🙏 we're on it!", "id": "Maaf ya 🙏"},
    },
}
COMMENT_ONLY = {"text": {"en": "Thanks for the kind words!"}, "platforms": ["facebook", "instagram"]}


@pytest.fixture
def toned(config: SocialdeskConfig) -> SocialdeskConfig:
    data: dict[str, Any] = config.model_dump(mode="json", exclude_none=True)
    data["saved_replies"] = {**data["saved_replies"], "delay": DELAY, "thanks": COMMENT_ONLY}
    return SocialdeskConfig.model_validate(data)


def test_a_platform_gets_its_own_wording_in_the_right_language() -> None:
    reply = SavedReply.model_validate(DELAY)
    assert text_in(reply, "en", fallback="en", platform="x").startswith("Sorry for the delay!")
    assert text_in(reply, "en-GB", fallback="en", platform="instagram").endswith("we're on it!")
    assert text_in(reply, "en", fallback="en", platform="whatsapp").startswith("We are sorry")
    assert text_in(reply, "en", fallback="en").startswith("We are sorry")
    # the customer's language beats a platform's wording in another language
    assert text_in(reply, "es", fallback="en", platform="x") == "Lo sentimos."
    # a language only the platform's wording has is used on that platform
    assert text_in(reply, "id", fallback="en", platform="instagram") == "Maaf ya 🙏"


def test_a_reply_limited_to_some_platforms_is_not_offered_elsewhere(toned: SocialdeskConfig) -> None:
    assert saved_reply_for(toned.saved_replies, "thanks", brand="ourbus", platform="instagram") is not None
    assert saved_reply_for(toned.saved_replies, "thanks", brand="ourbus", platform="x") is None
    assert saved_reply_for(toned.saved_replies, "thanks", brand="ourbus") is not None
    on_x = {v.key: v for v in saved_replies_for(toned, brand="ourbus", language="en", platform="x")}
    assert set(on_x) == {"delay", "luggage"}
    assert (on_x["delay"].platform, on_x["luggage"].platform) == ("x", None)
    assert on_x["delay"].placeholders == ()
    on_ig = {v.key: v for v in saved_replies_for(toned, brand="ourbus", language="en", platform="instagram")}
    assert set(on_ig) == {"delay", "luggage", "thanks"}
    assert on_ig["delay"].placeholders == ("customer_name",)
    assert auto_reply_text(toned, "thanks", brand="ourbus", language="en", platform="x") is None
    assert (
        auto_reply_text(toned, "delay", brand="ourbus", language="en", platform="x")
        == DELAY["tone"]["x"]["en"]
    )


def test_a_tone_for_a_platform_the_reply_is_not_for_is_refused() -> None:
    with pytest.raises(ValidationError, match="tone for x, which platforms leaves out"):
        SavedReply.model_validate({**DELAY, "platforms": ["instagram"]})
